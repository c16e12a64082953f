package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/loadtest"
)

// BenchmarkThroughput measures /v1/search/nearby (k=20, the realistic query
// workload, 1M businesses) with wrk against the HTTP ceiling of this
// machine: a trivial handler on the same router and middleware returning a
// fixed JSON body of the same size to the same requests. Both run in the
// same process, in alternating rounds (NEARBY_BENCH_ROUNDS, default 3, of
// NEARBY_BENCH_DURATION each, default 5s; wrk's threads and connections
// NEARBY_BENCH_WRK, default "-t2 -c64"), so the ratio is meaningful on a
// noisy machine; medians are reported. Then it times
// searches open loop at half and at a quarter of the search throughput
// measured, with loadtest.Pace in a child process, and the trivial handler
// at the same rates. It needs wrk (apt-get install wrk); it is a
// benchmark, so it asserts no speed.
func BenchmarkThroughput(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk not installed (apt-get install wrk)")
	}
	engine := &search.Engine{}
	region, err := search.BuildRegion("world", 1, dataset.Generate(1_000_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	engine.Swap(search.NewIndex(region))
	reg := prometheus.NewRegistry()
	s := NewServer(engine, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg, nil)

	paths := benchPaths()
	// The fixed body has the mean size of the real answers.
	total := 0
	for _, p := range paths[:500] {
		total += len(get(b, s, p))
	}
	fixed := []byte(`{"results":[],"pad":"` + strings.Repeat("x", max(0, total/500-30)) + `"}` + "\n")
	s.router.Get(fixedRoute, s.handle(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(fixed))) // as search answers do
		_, err := w.Write(fixed)
		return err
	}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// Both runs send the same requests from the same wrk script, prebuilt
	// once, so the generator costs the same; the fixed handler gets the
	// search's query strings on its own path.
	dir := b.TempDir()
	script := func(name, route string) string {
		var lua strings.Builder
		lua.WriteString("local paths = {\n")
		for _, p := range paths {
			fmt.Fprintf(&lua, "%q,\n", routed(p, route))
		}
		lua.WriteString("}\nlocal reqs = {}\nlocal i = 0\n" +
			"init = function(args)\n  for j, p in ipairs(paths) do reqs[j] = wrk.format(\"GET\", p) end\nend\n" +
			"request = function()\n  i = i % #reqs + 1\n  return reqs[i]\nend\n")
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(lua.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		return file
	}
	searchScript, fixedScript := script("search.lua", searchRoute), script("fixed.lua", fixedRoute)

	dur := cmp.Or(os.Getenv("NEARBY_BENCH_DURATION"), "5s") // of each wrk and pace run
	// Two threads and 64 connections gave both handlers their highest
	// throughput in a sweep of 1–2 threads and 16–256 connections (BENCHMARKS.md).
	wrkArgs := cmp.Or(os.Getenv("NEARBY_BENCH_WRK"), "-t2 -c64")
	runWrk := func(args ...string) (rps float64, p50, p99 time.Duration) {
		cmd := exec.Command(wrk, slices.Concat(strings.Fields(wrkArgs), []string{"-d" + dur, "--latency"}, args)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("wrk: %v\n%s", err, out)
		}
		text := string(out)
		if strings.Contains(text, "Non-2xx") {
			b.Fatalf("wrk saw errors:\n%s", text)
		}
		m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindStringSubmatch(text)
		if m == nil {
			b.Fatalf("no Requests/sec in:\n%s", text)
		}
		rps, _ = strconv.ParseFloat(m[1], 64)
		return rps, wrkPercentile(b, text, "50%"), wrkPercentile(b, text, "99%")
	}
	rounds := 3
	if s := os.Getenv("NEARBY_BENCH_ROUNDS"); s != "" {
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 1 {
			b.Fatalf("NEARBY_BENCH_ROUNDS=%q", s)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		// The machine's speed drifts (other tenants): rounds alternate the
		// two, each round's ratio compares neighbours in time, and the
		// medians are reported.
		var fixedRPS, searchRPS, ratio, fixedP50, fixedP99, searchP50, searchP99 []float64
		for range rounds {
			f, f50, f99 := runWrk("-s", fixedScript, base)
			s, s50, s99 := runWrk("-s", searchScript, base)
			fixedRPS, searchRPS, ratio = append(fixedRPS, f), append(searchRPS, s), append(ratio, 100*s/f)
			fixedP50, fixedP99 = append(fixedP50, float64(f50.Microseconds())), append(fixedP99, float64(f99.Microseconds()))
			searchP50, searchP99 = append(searchP50, float64(s50.Microseconds())), append(searchP99, float64(s99.Microseconds()))
		}
		b.ReportMetric(median(searchRPS), "search-req/s")
		b.ReportMetric(median(fixedRPS), "fixed-req/s")
		b.ReportMetric(median(ratio), "search/fixed-%")
		b.ReportMetric(slices.Min(ratio), "search/fixed-min-%")
		b.ReportMetric(slices.Max(ratio), "search/fixed-max-%")
		b.ReportMetric(median(searchP50), "search-p50-µs")
		b.ReportMetric(median(searchP99), "search-p99-µs")
		b.ReportMetric(median(fixedP50), "fixed-p50-µs")
		b.ReportMetric(median(fixedP99), "fixed-p99-µs")
		b.ReportMetric(float64(len(fixed)), "body-B")

		// Latency at half (the target) and a quarter of the maximum
		// throughput, open loop, from a generator in its own process; then
		// the trivial handler's at the same rate, the floor of HTTP on the
		// machine at that load.
		for _, load := range []struct {
			name     string
			fraction float64
		}{{"half", 0.5}, {"quarter", 0.25}} {
			cfg := loadtest.PaceConfig{Target: base, Rate: median(searchRPS) * load.fraction, Duration: durationOf(b, dur)}
			res := pace(b, cfg, searchRoute)
			b.ReportMetric(res.Rate, load.name+"-req/s")
			b.ReportMetric(float64(res.P50.Microseconds()), load.name+"-p50-µs")
			b.ReportMetric(float64(res.P99.Microseconds()), load.name+"-p99-µs")
			b.ReportMetric(float64(res.LagP99.Microseconds()), load.name+"-lag-p99-µs")
			floor := pace(b, cfg, fixedRoute)
			b.ReportMetric(float64(floor.P99.Microseconds()), load.name+"-fixed-p99-µs")
		}
	}
}

// benchPaths are the searches of BenchmarkThroughput.
func benchPaths() []string { return loadtest.SearchPaths(20000, 3) }

// The routes BenchmarkThroughput drives: the search, and the trivial
// handler, which gets the search's query strings.
const (
	searchRoute = "/v1/search/nearby"
	fixedRoute  = "/bench/fixed"
)

// routed sends a search path's query string to route instead.
func routed(path, route string) string { return strings.Replace(path, searchRoute, route, 1) }

// paceEnv carries a paceRun to the test binary run as
// BenchmarkThroughput's load generator.
const paceEnv = "NEARBY_BENCH_PACE"

// paceRun is a load generator's run: its config, without the paths (the
// generator makes benchPaths itself), and the route they go to.
type paceRun struct {
	loadtest.PaceConfig
	Route string
}

// TestMain doubles as the load generator of BenchmarkThroughput: with
// paceEnv set, this test binary runs loadtest.Pace and prints its result
// as JSON, so that the generator runs in its own process, as wrk does,
// rather than sharing the server's Go scheduler and garbage collector.
func TestMain(m *testing.M) {
	if env := os.Getenv(paceEnv); env != "" {
		var run paceRun
		if err := json.Unmarshal([]byte(env), &run); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for _, p := range benchPaths() {
			run.Paths = append(run.Paths, routed(p, run.Route))
		}
		res, err := loadtest.Pace(context.Background(), run.PaceConfig)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(res)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// pace runs loadtest.Pace on route in a child process (see TestMain) and
// fails on any error answer.
func pace(b *testing.B, cfg loadtest.PaceConfig, route string) *loadtest.PaceResult {
	env, err := json.Marshal(paceRun{cfg, route})
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), paceEnv+"="+string(env))
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("load generator: %v\n%s", err, out)
	}
	var res loadtest.PaceResult
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("load generator said %q: %v", out, err)
	}
	if res.Errors > 0 {
		b.Fatalf("%d errors at %.0f/s, e.g. %s", res.Errors, cfg.Rate, res.FirstError)
	}
	return &res
}

func durationOf(b *testing.B, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func get(b *testing.B, h http.Handler, path string) []byte {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != 200 {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// wrkPercentile reads a latency percentile line ("  99%    1.23ms").
func wrkPercentile(b *testing.B, text, pct string) time.Duration {
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(pct) + `\s+([\d.]+)(us|ms|s)`).FindStringSubmatch(text)
	if m == nil {
		b.Fatalf("no %s latency in:\n%s", pct, text)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[2]]
	return time.Duration(v * float64(unit))
}

// median returns the median of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
