package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/loadtest"
	"github.com/nearby/nearby/loadtest/searchdtest"
)

func noEnv(string) string { return "" }

// runCmd runs the command with args and returns its error, stdout and
// stderr.
func runCmd(t *testing.T, getenv func(string) string, args ...string) (error, string, string) {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	err := run(context.Background(), args, getenv, &stdout, &stderr)
	return err, stdout.String(), stderr.String()
}

func readReport(t *testing.T, path string) *loadtest.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rep loadtest.Report
	if err := json.NewDecoder(f).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestRunWritesReport is the new user's path: searchd is up, one command,
// a readable report.
func TestRunWritesReport(t *testing.T) {
	base := searchdtest.Start(t, 20000)
	out := filepath.Join(t.TempDir(), "reports", "search")
	err, stdout, stderr := runCmd(t, noEnv, "--target", base, "--scenario", "details", "--rate", "100", "--duration", "1500ms",
		"--thresholds", "p95<2s,p99<5s,errors<0.1%", "--out", out)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	for _, want := range []string{"scenario details against " + base, "p99.9", "search", "details", "thresholds: PASS", "report: " + out + ".json, " + out + ".html"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "scenario=details rate=100/s") || !strings.Contains(stderr, "req/s") {
		t.Errorf("no config or progress line on stderr:\n%s", stderr)
	}
	rep := readReport(t, out+".json")
	all, _ := rep.Stats("all")
	if rep.Scenario != "details" || rep.Iterations != 150 || all.Errors != 0 || !rep.Passed || len(rep.Thresholds) != 3 {
		t.Errorf("report: scenario %s, %d iterations, %d errors, passed %v, thresholds %+v", rep.Scenario, rep.Iterations, all.Errors, rep.Passed, rep.Thresholds)
	}
	if !strings.HasPrefix(rep.Command, "go run ./cmd/loadtest --target ") || rep.Machine.CPUs == 0 {
		t.Errorf("command %q, machine %+v", rep.Command, rep.Machine)
	}
	page, err := os.ReadFile(out + ".html")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), "<svg"); n != 3 || !strings.Contains(string(page), "PASS") {
		t.Errorf("HTML report has %d plots", n)
	}
}

func TestThresholdFailureExits(t *testing.T) {
	base := searchdtest.Start(t, 20000)
	dir := t.TempDir()
	err, stdout, _ := runCmd(t, noEnv, "--target", base, "--concurrency", "2", "--duration", "300ms", "--thresholds", "p99<1ns,errors<0.1%", "--out", dir)
	if !errors.Is(err, loadtest.ErrThresholds) {
		t.Fatalf("err %v, want ErrThresholds", err)
	}
	if !strings.Contains(stdout, "threshold p99<1ns") || !strings.Contains(stdout, "thresholds: FAIL") {
		t.Errorf("summary:\n%s", stdout)
	}
	// The report is written all the same, into the directory.
	if rep := readReport(t, filepath.Join(dir, "report.json")); rep.Passed || rep.Mode != "closed" {
		t.Errorf("report passed %v, mode %s", rep.Passed, rep.Mode)
	}
}

func TestRefusesRemoteTargets(t *testing.T) {
	for _, args := range [][]string{
		{"--target", "http://10.0.0.1:8080"},
		{"--target", "http://example.com"},
		{"--target", "http://[2001:db8::1]:8080"},
		{"--scenario", "owner", "--owner-url", "http://example.com"},
		{"--scenario", "owner", "--owner-url", "http://10.0.0.1"},
	} {
		err, _, _ := runCmd(t, noEnv, append(args, "--out", "")...)
		if !errors.Is(err, loadtest.ErrRemoteTarget) || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("%v: err %v", args, err)
		}
	}
	// --allow-remote lets the configuration through (nothing is sent here).
	if _, err := parseConfig([]string{"--target", "http://example.com", "--allow-remote"}, noEnv, &bytes.Buffer{}); err != nil {
		t.Errorf("--allow-remote: %v", err)
	}
}

func TestConfig(t *testing.T) {
	c, err := parseConfig(nil, func(k string) string {
		if k == "OWNER_TOKEN" {
			return "from-env"
		}
		return ""
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Target != "http://127.0.0.1:8080" || c.Scenario != "search" || c.Rate != 200 || c.Concurrency != 0 ||
		c.Duration.Seconds() != 30 || c.Token != "from-env" || len(c.Thresholds) != 3 || c.Out != "loadtest-report" {
		t.Errorf("defaults %+v", c)
	}
	c, err = parseConfig([]string{"--scenario", "owner", "--owner-url", "http://127.0.0.1:9090", "--thresholds", "none"}, noEnv, &bytes.Buffer{})
	if err != nil || c.Rate != 2 || len(c.Thresholds) != 0 {
		t.Errorf("owner: rate %g, thresholds %v, err %v", c.Rate, c.Thresholds, err)
	}
	for _, args := range [][]string{
		{"--rate", "10", "--concurrency", "2"},
		{"--scenario", "browse"},
		{"--thresholds", "p99<fast"},
		{"--duration", "soon"},
		{"extra"},
	} {
		if _, err := parseConfig(args, noEnv, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	var usage bytes.Buffer
	if _, err := parseConfig([]string{"--help"}, noEnv, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	for _, want := range []string{"search", "details", "owner", "mixed", "ceiling", "--rate", "--allow-remote", "Exits 99"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestUsageHidesToken: the usage text, printed on --help and on any bad
// flag, must not show $OWNER_TOKEN as the default of --token (it would end
// up in terminals and CI logs); the token still comes from the environment
// unless --token is given.
func TestUsageHidesToken(t *testing.T) {
	env := func(k string) string {
		if k == "OWNER_TOKEN" {
			return "s3cret-from-env"
		}
		return ""
	}
	for _, args := range [][]string{{"--help"}, {"--rate", "abc"}, {"--no-such-flag"}} {
		var usage bytes.Buffer
		if _, err := parseConfig(args, env, &usage); err == nil {
			t.Errorf("%v: accepted", args)
		}
		if strings.Contains(usage.String(), "s3cret") || !strings.Contains(usage.String(), "-token") {
			t.Errorf("%v: usage shows the token:\n%s", args, usage.String())
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "s3cret-from-env"},
		{[]string{"--token", "given"}, "given"},
		{[]string{"--token="}, ""}, // explicitly none
	} {
		c, err := parseConfig(tc.args, env, &bytes.Buffer{})
		if err != nil || c.Token != tc.want {
			t.Errorf("%v: token %q, err %v; want %q", tc.args, c.Token, err, tc.want)
		}
	}
}

func TestCommandLineRedactsToken(t *testing.T) {
	got := commandLine([]string{"--token", "s3cret", "--token=s3cret", "--thresholds", "p99<20ms,errors<0.1%", "--rate", "5"})
	want := `go run ./cmd/loadtest --token REDACTED --token=REDACTED --thresholds 'p99<20ms,errors<0.1%' --rate 5`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestBadRunRefusedBeforeWaiting: a run that cannot start (a negative
// rate, a duration of zero) is refused at once, naming the fault, not
// after waiting up to --wait for searchd to be ready.
func TestBadRunRefusedBeforeWaiting(t *testing.T) {
	for args, want := range map[string]string{
		"--rate -5":         "must be positive",
		"--concurrency -1":  "must be positive",
		"--duration 0s":     "duration must be positive",
		"--max-requests -1": "must not be negative",
	} {
		start := time.Now()
		err, _, _ := runCmd(t, noEnv, append(strings.Fields(args), "--target", "http://127.0.0.1:1", "--wait", "5s", "--out", "")...)
		if err == nil || !strings.Contains(err.Error(), want) || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %v after %s; want at once an error saying %q", args, err, time.Since(start).Round(time.Millisecond), want)
		}
	}
}

func TestNotRunning(t *testing.T) {
	err, _, _ := runCmd(t, noEnv, "--target", "http://127.0.0.1:1", "--wait", "500ms", "--out", "")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("err %v", err)
	}
}

func TestQueriesSubcommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.json")
	err, stdout, _ := runCmd(t, noEnv, "queries", "--out", path)
	if err != nil || !strings.Contains(stdout, "wrote 1000 queries") {
		t.Fatalf("%v: %s", err, stdout)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "loadtest", "k6", "queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Error("queries writes something else than loadtest/k6/queries.json")
	}
}

// TestPace runs the pace subcommand at two rates: a line each, every
// request answered; --path sends one fixed request; bad rates and paths and
// remote targets are refused.
func TestPace(t *testing.T) {
	base := searchdtest.Start(t, 20000)
	err, stdout, stderr := runCmd(t, noEnv, "pace", "--target", base, "--rate", "200, 400", "--duration", "500ms", "--conns", "4")
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "rate 200/s: answered ") || !strings.HasPrefix(lines[1], "rate 400/s: answered ") {
		t.Fatalf("output:\n%s", stdout)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "errors 0") || !strings.Contains(l, " p99 ") {
			t.Errorf("line %q", l)
		}
	}
	// --path sends one fixed request: the server sees it and nothing else.
	var healthz, searches atomic.Int64
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RequestURI() == "/healthz?x=1" {
			healthz.Add(1)
		} else {
			searches.Add(1)
		}
		io.WriteString(w, "ok")
	}))
	defer counting.Close()
	if err, stdout, stderr := runCmd(t, noEnv, "pace", "--target", counting.URL, "--rate", "200", "--duration", "300ms", "--conns", "2", "--path", "/healthz?x=1"); err != nil {
		t.Fatalf("--path: %v\n%s\n%s", err, stdout, stderr)
	}
	if healthz.Load() < 50 || searches.Load() != 0 {
		t.Errorf("--path /healthz?x=1: the server saw it %d times and other requests %d times", healthz.Load(), searches.Load())
	}
	for _, args := range [][]string{
		{"pace"},
		{"pace", "--rate", "fast"},
		{"pace", "--rate", "10", "--target", base, "--path", "healthz"},
		{"pace", "--rate", "0", "--target", base},
		{"pace", "--rate", "10", "--target", "http://10.0.0.1:8080"},
	} {
		if err, _, _ := runCmd(t, noEnv, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestPaceInterrupted: Ctrl-C during pace still prints what was measured,
// marked interrupted, with the rate of the part that ran (it printed
// nothing but "context canceled").
func TestPaceInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	err := run(ctx, []string{"pace", "--target", srv.URL, "--rate", "200,400", "--duration", "10s", "--conns", "2"}, noEnv, &stdout, &stderr)
	out := stdout.String()
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("err %v, want interrupted", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "rate 200/s: answered ") || !strings.Contains(lines[1], "INTERRUPTED") {
		t.Fatalf("output:\n%s", out)
	}
	// About 100 answers in 0.5 s: 200/s, not 100 spread over the 10 s asked.
	var answered float64
	if _, err := fmt.Sscanf(lines[0], "rate 200/s: answered %g/s", &answered); err != nil || answered < 150 || answered > 210 {
		t.Errorf("answered %g/s (%v) in %q, want about 200/s", answered, err, lines[0])
	}
}

// TestWriteReportIntoNewDirectory: --out DIR/ names a directory even before
// it exists: the report goes to DIR/report.*, not to DIR/.json and
// DIR/.html.
func TestWriteReportIntoNewDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports") + string(filepath.Separator)
	paths, err := writeReport(&loadtest.Report{Version: 1, Scenario: "search", Mode: "open", Rate: 1}, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "report.json"), filepath.Join(dir, "report.html")}
	if len(paths) != 2 || paths[0] != want[0] || paths[1] != want[1] {
		t.Errorf("wrote %v, want %v", paths, want)
	}
	for _, p := range want {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}
