package loadtest

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nearby/nearby/internal/dataset"
)

// node returns the path of node, skipping the test where there is none,
// except in CI, where the k6 scripts must be checked.
func node(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is needed to check the k6 scripts and was not found")
		}
		t.Skip("node not found; the k6 scripts are not checked")
	}
	return path
}

func k6Scripts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("k6", "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no k6 scripts: %v", err)
	}
	return files
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestK6ScriptsSyntax(t *testing.T) {
	bin := node(t)
	for _, f := range k6Scripts(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// package.json next to the scripts makes node read them as ES modules, as k6 does.
			if out, err := exec.Command(bin, "--check", f).CombinedOutput(); err != nil {
				t.Fatalf("node --check %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestK6InStepWithGo checks that the k6 scripts and the Go runner run the
// same scenarios with the same parameters and request names.
func TestK6InStepWithGo(t *testing.T) {
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	lib := readFile(t, filepath.Join("k6", "lib.js"))

	// Scenario names: the spec, the Go implementation and lib.js agree.
	names := spec.Names()
	if !equalSets(names, implemented) {
		t.Errorf("spec scenarios %v, Go implements %v", names, implemented)
	}
	m := regexp.MustCompile(`export const ITERATIONS = \{([^}]*)\}`).FindStringSubmatch(lib)
	if m == nil {
		t.Fatal("lib.js has no ITERATIONS")
	}
	var jsNames []string
	for _, f := range strings.Split(m[1], ",") {
		jsNames = append(jsNames, strings.TrimSpace(f))
	}
	if !equalSets(jsNames, names) {
		t.Errorf("lib.js ITERATIONS %v, spec %v", jsNames, names)
	}
	// One entry script per scenario, and no other.
	for _, f := range k6Scripts(t) {
		base := strings.TrimSuffix(filepath.Base(f), ".js")
		if base == "lib" || base == "common" {
			continue
		}
		if !slices.Contains(names, base) {
			t.Errorf("k6/%s.js runs no scenario of scenarios.json", base)
		}
	}
	for _, n := range names {
		src := readFile(t, filepath.Join("k6", n+".js"))
		if !strings.Contains(src, "scenarioOptions('"+n+"')") || !strings.Contains(src, "ITERATIONS."+n) {
			t.Errorf("k6/%s.js does not run scenario %s", n, n)
		}
		if !strings.Contains(lib, "export function "+n+"()") {
			t.Errorf("lib.js has no function %s", n)
		}
	}

	// Both read the same files.
	for _, want := range []string{"open('./scenarios.json')", "open(`./${SPEC.queries.file}`)).queries", "open(`./${SPEC.queries.file}`)).categories"} {
		if !strings.Contains(lib, want) {
			t.Errorf("lib.js does not read %s", want)
		}
	}

	// Every scenario parameter the Go runner reads is read by lib.js.
	var raw struct {
		Scenarios []map[string]json.RawMessage `json:"scenarios"`
	}
	if err := json.Unmarshal(specJSON, &raw); err != nil {
		t.Fatal(err)
	}
	for _, sc := range raw.Scenarios {
		for key := range sc {
			if key == "description" || key == "requests" || key == "name" {
				continue // documentation, and the request list checked below
			}
			if !strings.Contains(lib, "."+key) {
				t.Errorf("lib.js does not use the scenario parameter %q", key)
			}
		}
	}

	// Request names: lib.js tags exactly the requests the spec lists, and
	// those are the ones the Go runner records.
	var specReqs []string
	for _, sc := range spec.Scenarios {
		for _, r := range sc.Requests {
			if !slices.Contains(specReqs, r) {
				specReqs = append(specReqs, r)
			}
		}
	}
	var jsReqs []string
	for _, m := range regexp.MustCompile(`(?:get\([^;]*, |ownerParams\()'([a-z_]+)'`).FindAllStringSubmatch(lib, -1) {
		if !slices.Contains(jsReqs, m[1]) {
			jsReqs = append(jsReqs, m[1])
		}
	}
	if !equalSets(jsReqs, specReqs) || !equalSets(specReqs, RequestNames) {
		t.Errorf("request names: lib.js %v, scenarios.json %v, Go %v", jsReqs, specReqs, RequestNames)
	}
}

// TestK6CommonMatchesGo runs k6/common.js under node and compares its
// answers with the Go runner's: target guard, thresholds, mixed weights,
// created ids.
func TestK6CommonMatchesGo(t *testing.T) {
	bin := node(t)
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{
		"http://127.0.0.1:8080", "http://127.8.9.10", "http://localhost:8080/", "http://LOCALHOST",
		"http://[::1]:8080", "https://127.0.0.1:8443/base", "http://10.0.0.1:8080", "http://example.com",
		"http://0.0.0.0:8080", "http://localhost.example.com", "http://127.0.0.1.example.com",
		"http://[2001:db8::1]:80", "ftp://127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1:8080?x=1",
		"http://user:pw@127.0.0.1", "http://192.168.1.10",
		// Leading zeros: some resolvers read them as octal (0127 is 87).
		"http://0127.0.0.1:8080", "http://127.0.0.01", "http://127.000.0.1",
	}
	thresholds := []string{"p99<20ms", "p95<=10ms", "errors<0.1%", "errors<0.002", "search_page:p99.9<1.5s",
		"details:mean<250us", "max<1ns", "owner_create:errors<=1%", "p50<2m",
		// Limits that dividing by 100 in floating point moves off the
		// decimal value (0.9/100 is a hair above 0.009).
		"errors<0.9%", "errors<=0.7%", "errors<1.4%", "errors<2.7%", "errors<5e-1%", "errors<0.009",
		// Names no request has: both refuse them (k6 would pass a
		// threshold that selects no samples).
		"detail:p99<5ms", "all:errors<1%"}
	for _, sc := range spec.Scenarios {
		thresholds = append(thresholds, sc.Thresholds...)
	}
	var us []float64
	for i := range 200 {
		us = append(us, float64(i)/200)
	}
	type idCase struct {
		Body     any    `json:"body"`
		Location string `json:"location"`
	}
	ids := []idCase{
		{map[string]any{"id": "42"}, ""}, {map[string]any{"id": 43}, ""}, {map[string]any{"x": 1}, "/v1/businesses/44"},
		{nil, "/v1/businesses/45"}, {map[string]any{"id": ""}, ""}, {nil, "/v1/businesses/"}, {nil, ""},
	}
	mixed, _ := spec.Scenario("mixed")
	input, _ := json.Marshal(map[string]any{
		"targets": targets, "thresholds": thresholds, "requests": RequestNames, "weights": mixed.Weights, "us": us, "ids": ids,
	})
	common, err := filepath.Abs(filepath.Join("k6", "common.js"))
	if err != nil {
		t.Fatal(err)
	}
	harness := `import * as c from ` + strconv.Quote("file://"+common) + `;
const input = JSON.parse(process.argv[2]);
const out = { targets: {}, thresholds: {}, picks: {} };
for (const u of input.targets) {
  try { c.checkTarget(u, false, 'target'); out.targets[u] = true; } catch (e) { out.targets[u] = false; }
}
for (const th of input.thresholds) {
  try { out.thresholds[th] = c.k6Thresholds([th], input.requests); } catch (e) { out.thresholds[th] = null; }
}
for (const owner of [true, false]) {
  const ws = c.effectiveWeights(input.weights, owner);
  out.picks[owner] = input.us.map((u) => c.pickScenario(ws, u));
}
out.ids = input.ids.map((x) => c.createdID(x.body, x.location));
console.log(JSON.stringify(out));
`
	script := filepath.Join(t.TempDir(), "harness.mjs")
	if err := os.WriteFile(script, []byte(harness), 0o644); err != nil {
		t.Fatal(err)
	}
	outb, err := exec.Command(bin, script, string(input)).Output()
	if err != nil {
		t.Fatalf("node: %v %s", err, outb)
	}
	var got struct {
		Targets    map[string]bool                `json:"targets"`
		Thresholds map[string]map[string][]string `json:"thresholds"`
		Picks      map[string][]string            `json:"picks"`
		IDs        []string                       `json:"ids"`
	}
	if err := json.Unmarshal(outb, &got); err != nil {
		t.Fatalf("%v in %s", err, outb)
	}

	for _, u := range targets {
		_, err := CheckTarget(u, false)
		if got.Targets[u] != (err == nil) {
			t.Errorf("target %s: k6 accepts %v, Go error %v", u, got.Targets[u], err)
		}
	}

	rule := regexp.MustCompile(`^([a-z()0-9.]+)(<=?)(.+)$`)
	for _, expr := range thresholds {
		ts, err := ParseThresholds(expr)
		if strings.HasPrefix(expr, "detail:") || strings.HasPrefix(expr, "all:") {
			if err == nil || got.Thresholds[expr] != nil {
				t.Errorf("%s: k6 %v, Go error %v; want both to refuse the name", expr, got.Thresholds[expr], err)
			}
			continue
		}
		if (err != nil) != (got.Thresholds[expr] == nil) {
			t.Errorf("%s: k6 %v, Go error %v", expr, got.Thresholds[expr], err)
			continue
		} else if err != nil {
			continue
		}
		th := ts[0]
		wantKey, wantAgg, wantVal := "http_req_duration", "", ms(th.Latency)
		switch {
		case th.Metric == "errors":
			wantKey, wantAgg, wantVal = "http_req_failed", "rate", th.ErrorRate
		case th.Metric == "mean":
			wantAgg = "avg"
		case th.Metric == "max":
			wantAgg = "max"
		default:
			wantAgg = "p(" + strconv.FormatFloat(th.Percentile, 'f', -1, 64) + ")"
		}
		if th.Request != "" {
			wantKey += "{name:" + th.Request + "}"
		}
		rules := got.Thresholds[expr][wantKey]
		if len(got.Thresholds[expr]) != 1 || len(rules) != 1 {
			t.Errorf("%s: k6 %v, want one rule on %s", expr, got.Thresholds[expr], wantKey)
			continue
		}
		m := rule.FindStringSubmatch(rules[0])
		wantOp := "<"
		if th.OrEqual {
			wantOp = "<="
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		// An error share is compared exactly: the runners must agree on
		// which error counts pass at the limit.
		tol := 1e-9 * math.Max(1, wantVal)
		if th.Metric == "errors" {
			tol = 0
		}
		if m == nil || m[1] != wantAgg || m[2] != wantOp || math.Abs(v-wantVal) > tol {
			t.Errorf("%s: k6 rule %q, want %s%s%g", expr, rules[0], wantAgg, wantOp, wantVal)
		}
	}

	for _, owner := range []bool{true, false} {
		r := &runner{weights: weightsInEffect(mixed.Weights, owner)}
		picks := got.Picks[strconv.FormatBool(owner)]
		for i, u := range us {
			if want := r.pickScenario(u); picks[i] != want {
				t.Errorf("owner %v, u=%g: k6 picks %s, Go %s", owner, u, picks[i], want)
			}
		}
	}

	for i, c := range ids {
		raw, _ := json.Marshal(c.Body)
		var body struct {
			ID json.RawMessage `json:"id"`
		}
		json.Unmarshal(raw, &body)
		h := make(map[string][]string)
		if c.Location != "" {
			h["Location"] = []string{c.Location}
		}
		if want := createdID(body.ID, h); got.IDs[i] != want {
			t.Errorf("created id of %+v: k6 %q, Go %q", c, got.IDs[i], want)
		}
	}
}

// TestQueryFileUpToDate: k6/queries.json is what the generator makes now.
func TestQueryFileUpToDate(t *testing.T) {
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := spec.WriteQueryFile(&want); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join("k6", spec.Queries.File))
	if got != want.String() {
		t.Fatalf("k6/%s is stale: run `go run ./cmd/loadtest queries` from the repository root", spec.Queries.File)
	}
	var f QueryFile
	if err := json.Unmarshal([]byte(got), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Queries) != spec.Queries.Count || f.Seed != spec.Queries.Seed {
		t.Errorf("%d queries with seed %d", len(f.Queries), f.Seed)
	}
	// The Go runner sends the same queries in the same order.
	r, err := newRunner(spec, &spec.Scenarios[0], &Config{Target: "http://127.0.0.1:1", Rate: 1, Duration: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range f.Queries {
		if g := r.query(int64(i)); g.Path != q.Path || g.Lat != q.Lat || g.Lon != q.Lon {
			t.Fatalf("query %d: Go sends %+v, k6 %+v", i, g, q)
		}
	}
}

// TestQueryMix: the workload has the shape scenarios.json documents.
func TestQueryMix(t *testing.T) {
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n   int
		tol float64
	}{{20000, 0.015}, {spec.Queries.Count, 0.05}} {
		qs := dataset.Queries(tc.n, spec.Queries.Seed)
		radius, limit := map[float64]int{}, map[float64]int{}
		filtered := 0
		for _, q := range qs {
			radius[q.RadiusM]++
			limit[float64(q.Limit)]++
			if len(q.Categories) > 0 {
				filtered++
			}
		}
		check := func(what string, counts map[float64]int, shares []MixShare) {
			var sum float64
			for _, s := range shares {
				sum += s.Share
				if got := float64(counts[s.Value]) / float64(tc.n); math.Abs(got-s.Share) > tc.tol {
					t.Errorf("n=%d: %s %g has share %.3f, scenarios.json says %.3f", tc.n, what, s.Value, got, s.Share)
				}
			}
			if len(counts) != len(shares) || math.Abs(sum-1) > 1e-9 {
				t.Errorf("n=%d: %s values %v, scenarios.json lists %v", tc.n, what, counts, shares)
			}
		}
		check("radius", radius, spec.QueryMix.RadiusM)
		check("limit", limit, spec.QueryMix.Limit)
		if got := float64(filtered) / float64(tc.n); math.Abs(got-spec.QueryMix.CategoryFilterShare) > tc.tol {
			t.Errorf("n=%d: %.3f of queries filter by category, scenarios.json says %.3f", tc.n, got, spec.QueryMix.CategoryFilterShare)
		}
	}
}

func TestSpecRejectsBadDescriptions(t *testing.T) {
	good := string(specJSON)
	for name, edit := range map[string][2]string{
		"unknown field":    {`"next_page": 0.2`, `"next_pages": 0.2`},
		"unknown request":  {`"requests": ["search", "search_page"]`, `"requests": ["search", "browse"]`},
		"bad threshold":    {`"p95<50ms", "p99<100ms", "errors<0.1%"]`, `"p95<fast"]`},
		"weights not 1":    {`"weight": 0.70`, `"weight": 0.60`},
		"unknown weighted": {`{"scenario": "details", "weight": 0.29}`, `{"scenario": "browse", "weight": 0.29}`},
		"missing scenario": {`"name": "ceiling"`, `"name": "ceiling2"`},
		"version":          {`"version": 1`, `"version": 2`},
	} {
		bad := strings.Replace(good, edit[0], edit[1], 1)
		if bad == good {
			t.Fatalf("%s: edit did not apply", name)
		}
		if _, err := ParseSpec([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}
