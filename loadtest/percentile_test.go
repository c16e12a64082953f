package loadtest

import (
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var percentileSeed = flag.Uint64("percentile-seed", 0, "seed of TestPercentilesMatchBruteForce (0: from the clock)")

// nearestRank returns the p-th percentile of sorted by the nearest-rank
// definition: the smallest sample that at least p% of the samples do not
// exceed.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	// p/100*n can land a hair above a whole number (0.999*1000 is
	// 999.0000000000001 in floating point): compare in integers.
	for k > 1 && float64(k-1)*100 >= p*float64(len(sorted)) {
		k--
	}
	return sorted[max(k, 1)-1]
}

// TestPercentilesMatchBruteForce records random latencies through the
// recorder and checks every percentile of the report against the sorted
// samples: never below the true (nearest-rank) percentile, and above it
// by at most the HDR bucket's width (0.1%, or the histogram's 1 µs unit).
// A percentile that reads low would let a threshold such as p95<50ms
// pass with more than 5% of the requests slower.
func TestPercentilesMatchBruteForce(t *testing.T) {
	seed := *percentileSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-percentile-seed to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	start := time.Now()
	for _, n := range []int{1, 2, 3, 7, 12, 19, 20, 99, 101, 150, 1000, 1001, 2074, 10007} {
		rec := newRecorder(start)
		samples := make([]time.Duration, n)
		for i := range samples {
			// Log-uniform from 1 µs to 1 s, so that every bucket size is used.
			d := time.Duration(math.Pow(10, 3+6*rng.Float64()))
			samples[i] = d
			rec.record(result{name: ReqSearch, latency: d, end: start})
		}
		slices.Sort(samples)
		rs := summarize("all", rec.all, 1)
		check := func(what string, p float64, gotMs float64) {
			t.Helper()
			want := nearestRank(samples, p)
			got := time.Duration(math.Round(gotMs * 1e6))
			if p == 0 { // the minimum, as the lower end of its bucket
				if got > want || got < want-max(want/1000, time.Microsecond) {
					t.Errorf("n=%d %s p0: %v, minimum %v", n, what, got, want)
				}
				return
			}
			if got < want || got > want+max(want/1000, time.Microsecond) {
				t.Errorf("n=%d %s p%g: %v, brute force %v", n, what, p, got, want)
			}
		}
		for _, pm := range rs.Percentiles {
			check("report", pm.P, pm.Ms)
		}
		for _, pm := range rs.Distribution {
			check("distribution", pm.P, pm.Ms)
		}
		for _, p := range []float64{1, 50, 90, 95, 99, 99.9, 99.99, 100} {
			tr := Threshold{Metric: "p", Percentile: p, Latency: time.Hour}.check(rec.all)
			check("threshold", p, tr.Actual)
		}
		if ts := rec.timeSeries(time.Second); len(ts) != 1 || ts[0].Requests != int64(n) {
			t.Fatalf("n=%d: series %+v", n, ts)
		} else {
			// The series keeps 2 digits: within 1%.
			for _, c := range []struct {
				p  float64
				ms float64
			}{{50, ts[0].P50Ms}, {90, ts[0].P90Ms}, {99, ts[0].P99Ms}} {
				want := nearestRank(samples, c.p)
				got := time.Duration(math.Round(c.ms * 1e6))
				if got < want || got > want+max(want/100, time.Microsecond) {
					t.Errorf("n=%d series p%g: %v, brute force %v", n, c.p, got, want)
				}
			}
		}
	}
}

// TestPercentileThresholdSmallRun: 12 requests, one of them 100 ms. More
// than 5% of the requests took over 50 ms, so p95<50ms must fail.
func TestPercentileThresholdSmallRun(t *testing.T) {
	st := newStat()
	for i := range 12 {
		d := time.Millisecond
		if i == 0 {
			d = 100 * time.Millisecond
		}
		st.h.RecordValue(int64(d))
		st.count++
	}
	ts, err := ParseThresholds("p95<50ms")
	if err != nil {
		t.Fatal(err)
	}
	if r := ts[0].check(st); r.Passed || r.Actual < 100 {
		t.Errorf("p95<50ms with 1 of 12 requests at 100ms: %+v", r)
	}
}
