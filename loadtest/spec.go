package loadtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
)

// specJSON is k6/scenarios.json: the one description of the scenarios that
// both this package and the k6 scripts read.
//
//go:embed k6/scenarios.json
var specJSON []byte

// Spec is the shared description of the load-test scenarios
// (k6/scenarios.json).
type Spec struct {
	Version   int            `json:"version"`
	Queries   QuerySource    `json:"queries"`
	QueryMix  QueryMix       `json:"query_mix"`
	Scenarios []ScenarioSpec `json:"scenarios"`
}

// QuerySource names the query workload: the first Count queries of
// dataset.Queries for Seed, written to File (next to scenarios.json) for k6.
type QuerySource struct {
	File   string `json:"file"`
	Seed   uint64 `json:"seed"`
	Count  int    `json:"count"`
	MadeBy string `json:"made_by"`
}

// QueryMix documents the shape of the query workload. The workload itself
// comes from internal/dataset; tests check that it has this shape.
type QueryMix struct {
	Points              string     `json:"points"`
	RadiusM             []MixShare `json:"radius_m"`
	Limit               []MixShare `json:"limit"`
	CategoryFilterShare float64    `json:"category_filter_share"`
}

// MixShare is a value and the share of queries (in [0, 1]) that have it.
type MixShare struct {
	Value float64 `json:"value"`
	Share float64 `json:"share"`
}

// ScenarioSpec describes one scenario. Parameters that a scenario does not
// use are zero.
type ScenarioSpec struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Requests    []string `json:"requests"` // names of the requests it may issue
	// NextPage is the probability of fetching the next page after each page
	// (search), up to MaxPages pages in all.
	NextPage float64 `json:"next_page,omitempty"`
	MaxPages int     `json:"max_pages,omitempty"`
	// Top: details are viewed of one of the first Top results (details).
	Top int `json:"top,omitempty"`
	// Weights draw the scenario of each iteration (mixed).
	Weights []Weight `json:"weights,omitempty"`
	// DefaultRate is the open-loop rate, in iterations per second, used when
	// none is given.
	DefaultRate float64 `json:"default_rate"`
	// Thresholds are the default pass/fail criteria, in ParseThresholds
	// syntax.
	Thresholds []string `json:"thresholds"`

	thresholds []Threshold // parsed by ParseSpec
}

// Weight is a scenario's share of the iterations of a mixed scenario.
type Weight struct {
	Scenario string  `json:"scenario"`
	Weight   float64 `json:"weight"`
}

// Request names, as they appear in reports and as the k6 "name" tag.
const (
	ReqSearch      = "search"
	ReqSearchPage  = "search_page"
	ReqDetails     = "details"
	ReqOwnerCreate = "owner_create"
	ReqOwnerRead   = "owner_read"
	ReqOwnerUpdate = "owner_update"
	ReqOwnerDelete = "owner_delete"
	ReqHealthz     = "healthz"
)

// RequestNames lists every request name in report order.
var RequestNames = []string{
	ReqSearch, ReqSearchPage, ReqDetails, ReqHealthz,
	ReqOwnerCreate, ReqOwnerRead, ReqOwnerUpdate, ReqOwnerDelete,
}

// LoadSpec returns the embedded scenario description, checked.
func LoadSpec() (*Spec, error) {
	return ParseSpec(specJSON)
}

// ParseSpec decodes and checks a scenario description.
func ParseSpec(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	return &s, nil
}

func (s *Spec) check() error {
	if s.Version != 1 {
		return fmt.Errorf("version %d, want 1", s.Version)
	}
	if s.Queries.Count < 1 || s.Queries.File == "" {
		return fmt.Errorf("queries: need a file and a count >= 1")
	}
	seen := map[string]bool{}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		if seen[sc.Name] {
			return fmt.Errorf("scenario %q given twice", sc.Name)
		}
		seen[sc.Name] = true
		if !slices.Contains(implemented, sc.Name) {
			return fmt.Errorf("scenario %q has no implementation", sc.Name)
		}
		for _, r := range sc.Requests {
			if !slices.Contains(RequestNames, r) {
				return fmt.Errorf("scenario %q: unknown request %q", sc.Name, r)
			}
		}
		if sc.NextPage < 0 || sc.NextPage > 1 || sc.MaxPages < 0 || sc.Top < 0 || sc.DefaultRate <= 0 {
			return fmt.Errorf("scenario %q: parameter out of range", sc.Name)
		}
		ts, err := ParseThresholds(strings.Join(sc.Thresholds, ","))
		if err != nil {
			return fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
		sc.thresholds = ts
		var sum float64
		for _, w := range sc.Weights {
			if w.Weight < 0 || w.Scenario == sc.Name {
				return fmt.Errorf("scenario %q: bad weight %+v", sc.Name, w)
			}
			sum += w.Weight
		}
		if len(sc.Weights) > 0 && (sum < 0.999 || sum > 1.001) {
			return fmt.Errorf("scenario %q: weights sum to %g, want 1", sc.Name, sum)
		}
	}
	for _, name := range implemented {
		if !seen[name] {
			return fmt.Errorf("scenario %q is not described", name)
		}
	}
	for _, sc := range s.Scenarios {
		for _, w := range sc.Weights {
			if !seen[w.Scenario] {
				return fmt.Errorf("scenario %q: weight for unknown scenario %q", sc.Name, w.Scenario)
			}
		}
	}
	return nil
}

// Scenario returns the scenario named name.
func (s *Spec) Scenario(name string) (*ScenarioSpec, bool) {
	for i := range s.Scenarios {
		if s.Scenarios[i].Name == name {
			return &s.Scenarios[i], true
		}
	}
	return nil, false
}

// DefaultThresholds returns the scenario's default thresholds.
func (sc *ScenarioSpec) DefaultThresholds() []Threshold {
	return slices.Clone(sc.thresholds)
}

// parameters describes the scenario's parameters, e.g. " (next_page
// 0.2, max_pages 5)", or "" when it has none.
func (sc *ScenarioSpec) parameters() string {
	var ps []string
	if sc.NextPage > 0 {
		ps = append(ps, fmt.Sprintf("next_page %g", sc.NextPage))
	}
	if sc.MaxPages > 0 {
		ps = append(ps, fmt.Sprintf("max_pages %d", sc.MaxPages))
	}
	if sc.Top > 0 {
		ps = append(ps, fmt.Sprintf("top %d", sc.Top))
	}
	if len(ps) == 0 {
		return ""
	}
	return " (" + strings.Join(ps, ", ") + ")"
}

// Names returns the scenario names in the order of the description.
func (s *Spec) Names() []string {
	names := make([]string, len(s.Scenarios))
	for i, sc := range s.Scenarios {
		names[i] = sc.Name
	}
	return names
}

// Query is one search of the workload as both runners send it.
type Query struct {
	// Path is the request path and query string, e.g.
	// "/v1/search/nearby?lat=35.6812&lon=139.7671&radius=2000&limit=20".
	Path       string   `json:"path"`
	Lat        float64  `json:"lat"` // degrees
	Lon        float64  `json:"lon"` // degrees
	RadiusM    float64  `json:"radius_m"`
	Limit      int      `json:"limit"`
	Categories []string `json:"categories"` // wire names; empty: no filter
}

// QueryFile is the k6 query file (k6/queries.json).
type QueryFile struct {
	Seed       uint64   `json:"seed"`
	Count      int      `json:"count"`
	MadeBy     string   `json:"made_by"`
	Categories []string `json:"categories"` // every category in stored order (owner's shops use them)
	Queries    []Query  `json:"queries"`
}

// Queries returns the first n queries of the workload for seed, as sent.
func Queries(n int, seed uint64) []Query {
	qs := dataset.Queries(n, seed)
	out := make([]Query, len(qs))
	for i, q := range qs {
		out[i] = newQuery(q)
	}
	return out
}

func newQuery(q dataset.Query) Query {
	cats := make([]string, len(q.Categories))
	for i, c := range q.Categories {
		cats[i] = c.String()
	}
	// Parameters in the API's documented order; numbers in their shortest
	// exact form, which JavaScript's Number.toString also prints for the
	// values the generator makes.
	var b strings.Builder
	b.WriteString("/v1/search/nearby?lat=")
	b.WriteString(strconv.FormatFloat(q.Lat, 'f', -1, 64))
	b.WriteString("&lon=")
	b.WriteString(strconv.FormatFloat(q.Lon, 'f', -1, 64))
	b.WriteString("&radius=")
	b.WriteString(strconv.FormatFloat(q.RadiusM, 'f', -1, 64))
	b.WriteString("&limit=")
	b.WriteString(strconv.Itoa(q.Limit))
	if len(cats) > 0 {
		b.WriteString("&category=")
		b.WriteString(strings.Join(cats, ","))
	}
	return Query{Path: b.String(), Lat: q.Lat, Lon: q.Lon, RadiusM: q.RadiusM, Limit: q.Limit, Categories: cats}
}

// WriteQueryFile writes the k6 query file of the spec's workload to w: the
// queries the Go runner sends first, in the same order.
func (s *Spec) WriteQueryFile(w io.Writer) error {
	f := QueryFile{
		Seed: s.Queries.Seed, Count: s.Queries.Count, MadeBy: s.Queries.MadeBy,
		Categories: nearby.CategoryNames(), Queries: Queries(s.Queries.Count, s.Queries.Seed),
	}
	// One query per line keeps the file diffable.
	var b, line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // keep & in paths readable
	if err := enc.Encode(f.Categories); err != nil {
		return err
	}
	fmt.Fprintf(&b, "{\"seed\": %d, \"count\": %d, \"made_by\": %q,\n\"categories\": %s,\n\"queries\": [\n",
		f.Seed, f.Count, f.MadeBy, bytes.TrimSuffix(line.Bytes(), []byte("\n")))
	for i, q := range f.Queries {
		line.Reset()
		if err := enc.Encode(q); err != nil {
			return err
		}
		b.Write(bytes.TrimSuffix(line.Bytes(), []byte("\n")))
		if i < len(f.Queries)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	_, err := w.Write(b.Bytes())
	return err
}
