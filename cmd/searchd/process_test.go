package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/internal/cluster"
	"github.com/nearby/nearby/internal/syncbuf"
)

// buildSearchd builds the searchd binary into a temporary directory.
func buildSearchd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "searchd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSecondSignalStopsAtOnce: SIGTERM drains in-flight requests; a
// second one ends the process without waiting for the drain (here a client
// sending its body slowly, which would hold it for the read timeout).
func TestSecondSignalStopsAtOnce(t *testing.T) {
	bin := buildSearchd(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--addr", addr)
	cmd.Env = append(os.Environ(), "NEARBY_DEMO_SIZE=2000")
	logs := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	waitReady(t, "http://"+addr)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /v1/search/within HTTP/1.1\r\nHost: x\r\nContent-Type: application/geo+json\r\nContent-Length: 1000\r\n\r\n{\"type\"")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the request is in flight
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "shutting down"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown after SIGTERM; log:\n%s", logs.String())
		}
	}
	select {
	case <-exited:
		t.Fatalf("exited (%v) with a request in flight", waitErr)
	case <-time.After(300 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
		t.Fatal("a second SIGTERM did not end the process; it waits for the drain")
	}
}

// TestHelpExitsZero: --help prints the usage and is not an error.
func TestHelpExitsZero(t *testing.T) {
	bin := buildSearchd(t)
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("searchd --help: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-seeds") || strings.Contains(string(out), "help requested") {
		t.Errorf("searchd --help printed:\n%s", out)
	}
}

// TestBadClusterMapReleasesAddress: a cluster map that cannot be used
// fails the start before listening, and leaves the address free.
func TestBadClusterMapReleasesAddress(t *testing.T) {
	dir := t.TempDir()
	clusterMap := filepath.Join(dir, "cluster.json")
	if err := os.WriteFile(clusterMap, []byte(`{"nodes":{"n1":"http://127.0.0.1:1"},"regions":{"rest":["n1"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"missing file":  {"--cluster", filepath.Join(dir, "nope.json"), "--node", "n1"},
		"unknown node":  {"--cluster", clusterMap, "--node", "n9"},
		"not json file": {"--cluster", dir, "--node", "n1"},
	} {
		t.Run(name, func(t *testing.T) {
			addr := freeAddr(t)
			logs := &syncbuf.Buffer{}
			args = append([]string{"--addr", addr, "--seeds", dir}, args...)
			err := run(context.Background(), args, func(string) string { return "" }, logs)
			if err == nil {
				t.Fatal("searchd started with a bad cluster map")
			}
			if strings.Contains(logs.String(), `"listening"`) {
				t.Errorf("listened before failing on the cluster map (%v)", err)
			}
			ln, lerr := net.Listen("tcp", addr)
			if lerr != nil {
				t.Fatalf("after %v, %s is still held: %v", err, addr, lerr)
			}
			ln.Close()
			if errors.Is(err, context.Canceled) {
				t.Errorf("error %v", err)
			}
		})
	}
}

// TestRegionsFlag: --regions takes a comma list with optional spaces;
// an empty or impossible region name fails the start instead of silently
// loading nothing for it.
func TestRegionsFlag(t *testing.T) {
	for _, tc := range []struct {
		regions string
		want    []string // nil: an error
	}{
		{"europe-africa", []string{"europe-africa"}},
		{"americas-east, europe-africa", []string{"americas-east", "europe-africa"}},
		{" rest ,asia-oceania", []string{"rest", "asia-oceania"}},
		{"rest,,asia-oceania", nil},
		{"rest,", nil},
		{"Europe Africa", nil},
	} {
		t.Run(tc.regions, func(t *testing.T) {
			c, err := parseConfig([]string{"--seeds", "x", "--regions", tc.regions}, func(string) string { return "" }, io.Discard)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted as %q", c.Regions)
				}
				return
			}
			if err != nil || !slices.Equal(c.Regions, tc.want) {
				t.Fatalf("regions %q, err %v; want %q", c.Regions, err, tc.want)
			}
		})
	}
}

// TestBadDemoSizeRefused: a demo of no businesses would serve an empty
// index that answers every search with nothing, and one of more than
// maxDemoSize would run out of memory after listening; like other bad
// flags, such a --demo-size fails the start.
func TestBadDemoSizeRefused(t *testing.T) {
	for _, size := range []string{"0", "-1", "x", "1000000001", "100000000000", "99999999999999999999"} {
		t.Run(size, func(t *testing.T) {
			for name, args := range map[string][]string{"flag": {"--demo-size", size}, "env": nil} {
				env := func(k string) string {
					if name == "env" && k == "NEARBY_DEMO_SIZE" {
						return size
					}
					return ""
				}
				if c, err := parseConfig(args, env, io.Discard); err == nil || !strings.Contains(err.Error(), "demo size") {
					t.Errorf("%s: demo size %q accepted as %d (err %v)", name, size, c.DemoSize, err)
				}
			}
		})
	}
	for _, size := range []int{1, maxDemoSize} {
		arg := strconv.Itoa(size)
		if c, err := parseConfig([]string{"--demo-size", arg}, func(string) string { return "" }, io.Discard); err != nil || c.DemoSize != size {
			t.Errorf("--demo-size %s: %d, %v", arg, c.DemoSize, err)
		}
	}
}

// TestDemoSeedRange: the demo's version is seed × 2^32 + size, as
// documented, so seeds of 2^32 or more, which would share a smaller seed's
// version (and its cursors) over different data, are refused.
func TestDemoSeedRange(t *testing.T) {
	base, _ := startSearchd(t, []string{"--demo-size", "50", "--demo-seed", "4294967295", "--rate-limits", "off"}, nil)
	var ready struct {
		IndexVersion string `json:"index_version"`
	}
	getJSON(t, base+"/readyz", 200, &ready)
	if want := strconv.FormatUint(4294967295<<32|50, 10); ready.IndexVersion != want {
		t.Errorf("seed 2^32-1, 50 businesses: version %s, want %s", ready.IndexVersion, want)
	}
	for _, seed := range []string{"4294967296", "4294967297", "18446744073709551615", "-1"} {
		_, err := parseConfig([]string{"--demo-seed", seed}, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "demo seed") {
			t.Errorf("--demo-seed %s: %v, want it refused", seed, err)
		}
	}
}

// TestClusterMapRollbackReloaded: the cluster map is re-read when its file
// changes, also when it is replaced by an older file (a rollback with
// mv or cp -p keeps the old modification time).
func TestClusterMapRollbackReloaded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.json")
	write := func(m string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	write(`{"nodes":{"n1":"http://127.0.0.1:1","n2":"http://127.0.0.1:2"},"regions":{"rest":["n1","n2"]}}`, now)
	logs := watchMap(t, path, "")
	time.Sleep(20 * time.Millisecond)
	if strings.Contains(logs.String(), "cluster map") {
		t.Fatalf("an unchanged map was reloaded:\n%s", logs.String())
	}
	write(`{"nodes":{"n1":"http://127.0.0.1:1"},"regions":{"rest":["n1"]}}`, now.Add(-time.Hour))
	waitReloads(t, logs, 1)
}

// watchMap runs watchClusterMap on the map at path, as node n1, with the
// regions the map gives it if own is "n1" (own "": as with --regions), and
// returns its log; it stops when the test ends.
func watchMap(t *testing.T, path, own string) *syncbuf.Buffer {
	t.Helper()
	m, err := cluster.ReadMap(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	client := cluster.NewClient(m, "n1", logger, prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	stamp := stampOf(path) // of the map read, before the goroutine runs and it changes
	go func() {
		watchClusterMap(ctx, path, stamp, client, own, m.RegionsOf(own), 5*time.Millisecond, logger)
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return logs
}

// waitReloads waits until logs show n reloads of the cluster map.
func waitReloads(t *testing.T, logs *syncbuf.Buffer, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); strings.Count(logs.String(), "cluster map reloaded") < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("map not reloaded %d times:\n%s", n, logs.String())
		}
	}
}
