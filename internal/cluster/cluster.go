// Package cluster lets a search node ask other nodes for the regions it
// does not hold: a cluster map (which nodes hold which regions), health
// probes of the peers, and a client that asks one healthy replica per region
// with a deadline, hedging to a second replica when the first is slow.
//
// The wire protocol is searchd's internal shard API:
//
//	GET /internal/v1/shard/nearby?region=&lat=&lon=&radius=&limit=&category=&after_distance=&after_id=
//	  → {"region":"…","version":"123","results":[{"id":"1","name":…,"category":…,"lat":…,"lon":…,"distance_m":…}]}
//	GET /internal/v1/shard/businesses/{id}?region=
//	  → {"id":"1","name":…,"category":…,"lat":…,"lon":…}
//
// Floats travel in their shortest exact decimal form, so a merged answer is
// bit for bit the one a single node holding every region would give.
package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/nearby/nearby"
)

// Map says which nodes hold which regions.
type Map struct {
	Nodes   map[string]string   `json:"nodes"`   // node name → base URL, e.g. http://10.0.0.5:8080 (a trailing slash is ignored)
	Regions map[string][]string `json:"regions"` // region → names of the nodes holding it (replicas)
}

// ReadMap reads and validates a JSON cluster map.
func ReadMap(path string) (*Map, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// encoding/json keeps the last of duplicate names (and merges
	// duplicate objects): a node's other URL, or a region's other
	// replicas, would be dropped without a word.
	if err := noDuplicateNames(json.NewDecoder(bytes.NewReader(data))); err != nil {
		return nil, fmt.Errorf("cluster map %q: %w", path, err)
	}
	var m Map
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cluster map %q: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("cluster map %q: %w", path, err)
	}
	return &m, nil
}

// noDuplicateNames reads one JSON value and fails if an object in it has
// a name twice.
func noDuplicateNames(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return err
			}
			s, _ := name.(string)
			if seen[s] {
				return fmt.Errorf("%q appears twice in an object", s)
			}
			seen[s] = true
			if err := noDuplicateNames(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if err := noDuplicateNames(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}

// Validate checks that every node has an http(s) URL (a path is a prefix;
// no query or fragment, which would swallow the paths appended) and every
// region names known nodes, each once.
func (m *Map) Validate() error {
	for name, base := range m.Nodes {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			strings.ContainsAny(base, "?#") {
			return nearby.Errorf(nearby.EINVALID, "node %q: bad URL %q", name, base)
		}
	}
	for region, nodes := range m.Regions {
		if len(nodes) == 0 {
			return nearby.Errorf(nearby.EINVALID, "region %q has no nodes", region)
		}
		for i, n := range nodes {
			if _, ok := m.Nodes[n]; !ok {
				return nearby.Errorf(nearby.EINVALID, "region %q names unknown node %q", region, n)
			}
			// A replica named twice is one replica: hedging would ask
			// the same node again.
			if slices.Contains(nodes[:i], n) {
				return nearby.Errorf(nearby.EINVALID, "region %q names node %q twice", region, n)
			}
		}
	}
	return nil
}

// base returns node's base URL without a trailing slash, ready for a path.
func (m *Map) base(node string) string { return strings.TrimRight(m.Nodes[node], "/") }

// RegionsOf returns the regions node holds, sorted.
func (m *Map) RegionsOf(node string) []string {
	var rs []string
	for region, nodes := range m.Regions {
		if slices.Contains(nodes, node) {
			rs = append(rs, region)
		}
	}
	sort.Strings(rs)
	return rs
}
