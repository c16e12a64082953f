package cluster

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
)

// TestReadMap: a map that would silently ask fewer replicas, or other
// nodes, than the file names is refused.
func TestReadMap(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		ok         bool
	}{
		{"good", `{"nodes": {"n1": "http://10.0.0.1:8080", "n2": "https://n2.internal/"},
			"regions": {"a": ["n1", "n2"], "b": ["n2"]}}`, true},
		{"path prefix", `{"nodes": {"n1": "http://10.0.0.1:8080/nearby/"}, "regions": {"a": ["n1"]}}`, true},
		{"unknown node", `{"nodes": {"n1": "http://h:1"}, "regions": {"a": ["n2"]}}`, false},
		{"region without replicas", `{"nodes": {"n1": "http://h:1"}, "regions": {"a": []}}`, false},
		{"null region", `{"nodes": {"n1": "http://h:1"}, "regions": {"a": null}}`, false},
		{"bad scheme", `{"nodes": {"n1": "ftp://h:1"}, "regions": {"a": ["n1"]}}`, false},
		{"no host", `{"nodes": {"n1": "http:///x"}, "regions": {"a": ["n1"]}}`, false},
		{"duplicate replica", `{"nodes": {"n1": "http://h:1", "n2": "http://h:2"}, "regions": {"a": ["n1", "n1"]}}`, false},
		{"duplicate node name", `{"nodes": {"n1": "http://h:1", "n1": "http://h:2"}, "regions": {"a": ["n1"]}}`, false},
		{"duplicate region", `{"nodes": {"n1": "http://h:1", "n2": "http://h:2"}, "regions": {"a": ["n1"], "a": ["n2"]}}`, false},
		{"duplicate nodes key", `{"nodes": {"n1": "http://h:1"}, "nodes": {"n2": "http://h:2"}, "regions": {"a": ["n2"]}}`, false},
		{"query in URL", `{"nodes": {"n1": "http://h:1/?x=1"}, "regions": {"a": ["n1"]}}`, false},
		{"fragment in URL", `{"nodes": {"n1": "http://h:1/#x"}, "regions": {"a": ["n1"]}}`, false},
		{"empty fragment in URL", `{"nodes": {"n1": "http://h:1#"}, "regions": {"a": ["n1"]}}`, false},
		{"empty query in URL", `{"nodes": {"n1": "http://h:1?"}, "regions": {"a": ["n1"]}}`, false},
		{"not JSON", `{"nodes": `, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cluster.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := ReadMap(path)
			if (err == nil) != tc.ok {
				t.Fatalf("ReadMap = %+v, %v; want ok %v", m, err, tc.ok)
			}
		})
	}
}

// TestClusterDensityOverHTTP: both nodes of a cluster count the same
// grids, each half from memory and half over HTTP, and every business in
// a whole-world grid is counted once.
func TestClusterDensityOverHTTP(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	bs := businesses(t, r, 2000)
	engines, _, _ := testCluster(t, bs)
	ctx := context.Background()
	grids := []nearby.DensityGrid{
		{Box: geo.Rect{MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}, Cols: 1, Rows: 1},
		{Box: geo.Rect{MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}, Cols: 64, Rows: 64},
		{Box: geo.Rect{MinLat: -20, MaxLat: 70, MinLon: 140, MaxLon: -20}, Cols: 7, Rows: 5, Categories: nearby.CategorySet(1<<nearby.Cafe | 1<<nearby.Bar)},
	}
	for i, g := range grids {
		var first []int
		for n, e := range engines {
			d, err := e.Density(ctx, g)
			if err != nil || len(d.Missing) > 0 {
				t.Fatalf("grid %d, node %d: %v, missing %v", i, n, err, d)
			}
			if n == 0 {
				first = d.Counts
			} else if !slices.Equal(d.Counts, first) {
				t.Fatalf("grid %d: nodes disagree:\n%v\n%v", i, first, d.Counts)
			}
			if i == 0 && d.Counts[0] != len(bs) {
				t.Fatalf("node %d counts %d businesses in the world, want %d", n, d.Counts[0], len(bs))
			}
		}
	}
}

// TestHedgePastTwoSlowReplicas: with three replicas of a region and the
// two asked first hanging, the third is asked HedgeAfter after the second
// ("and so on"), and answers well within ShardTimeout: the region is not
// missing because two replicas were slow.
func TestHedgePastTwoSlowReplicas(t *testing.T) {
	hang := http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) { <-req.Context().Done() })
	slow1, slow2 := httptest.NewServer(hang), httptest.NewServer(hang)
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"region":"europe","version":"1","results":[],"total":0,"total_capped":false}`))
	}))
	for _, s := range []*httptest.Server{slow1, slow2, good} {
		t.Cleanup(s.Close)
	}
	m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "s1": slow1.URL, "s2": slow2.URL, "g": good.URL},
		Regions: map[string][]string{"europe": {"s1", "s2", "g"}}}
	c := NewClient(m, "a", discard, prometheus.NewRegistry())
	c.ShardTimeout, c.HedgeAfter = 2*time.Second, 20*time.Millisecond
	q := nearby.SearchQuery{Lat: 48.85, Lon: 2.35, RadiusM: 1000, Limit: 10}
	for turn := range 3 { // each replica comes first once
		start := time.Now()
		if _, err := c.Shard(context.Background(), "europe", q, nil); err != nil {
			t.Fatalf("turn %d: %v", turn, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("turn %d: answered after %v; the shard timeout is %v, the hedge delay %v", turn, took, c.ShardTimeout, c.HedgeAfter)
		}
	}
}
