package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/seeds"
)

// missingWarnings returns the warnings in logs about wanted regions that a
// loaded manifest lacks.
func missingWarnings(t *testing.T, logs *syncbuf.Buffer) []map[string]any {
	t.Helper()
	var ws []map[string]any
	for line := range strings.Lines(logs.String()) {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["level"] == "WARN" && l["missing_regions"] != nil {
			ws = append(ws, l)
		}
	}
	return ws
}

// TestMissingRegionsWarned: --regions naming a region the manifest does
// not have starts (the indexer may publish it later) but says so at WARN,
// at every load, naming the missing regions and the manifest's.
func TestMissingRegionsWarned(t *testing.T) {
	dir := t.TempDir()
	m := publish(t, dir, testBusinesses(2000, 11))
	base, logs := startSearchd(t, []string{"--seeds", dir, "--regions", "us-west,rest", "--reload-interval", "10ms", "--rate-limits", "off"}, nil)
	var ix struct {
		Regions []struct {
			Name string `json:"name"`
		} `json:"regions"`
	}
	getJSON(t, base+"/v1/index", 200, &ix)
	if len(ix.Regions) != 1 || ix.Regions[0].Name != "rest" {
		t.Fatalf("holds %v, want rest", ix.Regions)
	}
	ws := missingWarnings(t, logs)
	if len(ws) != 1 {
		t.Fatalf("%d warnings about missing regions, want 1; log:\n%s", len(ws), logs.String())
	}
	var names []string
	for _, r := range m.Regions {
		names = append(names, r.Name)
	}
	var missing, has []string
	for _, v := range ws[0]["missing_regions"].([]any) {
		missing = append(missing, v.(string))
	}
	for _, v := range ws[0]["manifest_regions"].([]any) {
		has = append(has, v.(string))
	}
	if !slices.Equal(missing, []string{"us-west"}) || !slices.Equal(has, names) {
		t.Errorf("warning names missing %q and manifest regions %q; want [us-west] and %q", missing, has, names)
	}

	// Each load of a manifest without it says so again.
	m.Generation++
	if err := seeds.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(missingWarnings(t, logs)) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning at the reload; log:\n%s", logs.String())
		}
	}
}

// TestNoMissingRegionsWarning: a node whose wanted regions are all in the
// manifest, and a cluster node the map gives no region, are not warned
// about.
func TestNoMissingRegionsWarning(t *testing.T) {
	dir := t.TempDir()
	publish(t, dir, testBusinesses(2000, 12))
	clusterMap := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(clusterMap, []byte(`{"nodes":{"front":"http://127.0.0.1:1","n1":"http://127.0.0.1:2"},
		"regions":{"americas-west":["n1"],"americas-east":["n1"],"europe-africa":["n1"],"asia-oceania":["n1"],"rest":["n1"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"regions": {"--regions", "rest,europe-africa"},
		"all":     nil,
		"front":   {"--cluster", clusterMap, "--node", "front"},
	} {
		t.Run(name, func(t *testing.T) {
			_, logs := startSearchd(t, append([]string{"--seeds", dir, "--rate-limits", "off"}, args...), nil)
			if ws := missingWarnings(t, logs); len(ws) > 0 {
				t.Errorf("warned %v", ws)
			}
		})
	}
}

// TestNodeNeedsCluster: --node names this node in a cluster map; without
// one it would be ignored and the node would load every region, as
// --cluster without --node would hold none: both fail the start.
func TestNodeNeedsCluster(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"flag": {[]string{"--seeds", "x", "--node", "n1"}, nil},
		"env":  {[]string{"--seeds", "x"}, map[string]string{"NEARBY_NODE": "n1"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--node needs --cluster") {
				t.Errorf("err %v, want --node needs --cluster", err)
			}
		})
	}
}

// TestUsageRedactsSecrets: the usage, printed on --help and on any bad
// flag (into the logs, where stdout goes), shows the defaults the
// environment gives, so the passwords in NEARBY_DB_REPLICA and
// NEARBY_REDIS must not appear in it.
func TestUsageRedactsSecrets(t *testing.T) {
	env := map[string]string{
		"NEARBY_DB_REPLICA": "postgres://nearby:s3cret-db@db.internal:5432/nearby",
		"NEARBY_REDIS":      "redis://:s3cret-redis@cache.internal:6379/0",
	}
	for _, args := range [][]string{{"--help"}, {"--no-such-flag"}} {
		var out strings.Builder
		if _, err := parseConfig(args, func(k string) string { return env[k] }, &out); err == nil {
			t.Fatalf("%v accepted", args)
		}
		if strings.Contains(out.String(), "s3cret") {
			t.Errorf("%v printed a password:\n%s", args, out.String())
		}
		if !strings.Contains(out.String(), "db.internal") || !strings.Contains(out.String(), "cache.internal") {
			t.Errorf("%v does not show the redacted defaults:\n%s", args, out.String())
		}
	}
	// The values themselves are kept.
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.Tier.DB != env["NEARBY_DB_REPLICA"] || c.Tier.Redis != env["NEARBY_REDIS"] {
		t.Errorf("db %q, redis %q, err %v", c.Tier.DB, c.Tier.Redis, err)
	}
}

// TestClusterMapMovingOwnRegionsWarned: a node's own regions are read at
// start, so a reloaded map that gives it other regions (the peers now ask
// it for a region it does not hold) says so at WARN, naming both; a map
// changing only other nodes' regions does not.
func TestClusterMapMovingOwnRegionsWarned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.json")
	mtime := time.Now().Add(-time.Hour)
	write := func(m string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		// Maps of one size written within a clock tick would look alike.
		mtime = mtime.Add(time.Second)
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"nodes":{"n1":"http://127.0.0.1:1","n2":"http://127.0.0.1:2"},"regions":{"rest":["n1"],"europe-africa":["n2"]}}`)
	logs := watchMap(t, path, "n1")

	// Another node's regions change: nothing to say.
	write(`{"nodes":{"n1":"http://127.0.0.1:1","n2":"http://127.0.0.1:2"},"regions":{"rest":["n1","n2"],"europe-africa":["n2"]}}`)
	waitReloads(t, logs, 1)
	if strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Fatalf("warned:\n%s", logs.String())
	}
	// This node's regions change: a restart is needed.
	write(`{"nodes":{"n1":"http://127.0.0.1:1","n2":"http://127.0.0.1:2"},"regions":{"rest":["n1"],"europe-africa":["n1","n2"]}}`)
	waitReloads(t, logs, 2)
	var warned bool
	for line := range strings.Lines(logs.String()) {
		var l struct {
			Level      string
			Holds      []string `json:"holds"`
			MapRegions []string `json:"map_regions"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Level == "WARN" {
			warned = slices.Equal(l.Holds, []string{"rest"}) && slices.Equal(l.MapRegions, []string{"europe-africa", "rest"})
		}
	}
	if !warned {
		t.Errorf("no warning naming the regions held and the map's:\n%s", logs.String())
	}
}
