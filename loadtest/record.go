package loadtest

import (
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram ranges. Latencies are recorded in nanoseconds from 1 µs to one
// minute (longer ones count as one minute) with 3 significant digits, so
// any percentile is within 0.1% of the true value; the per-second
// histograms of the time series use 2 digits (1%), to stay small.
const (
	histMin       = int64(time.Microsecond)
	histMax       = int64(time.Minute)
	histDigits    = 3
	seriesDigits  = 2
	maxErrSamples = 10
)

func newHist(digits int) *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, digits)
}

// valueAt returns the p-th percentile of h, p in (0, 100]: the upper end
// of the bucket of the smallest value that at least p% of the values do
// not exceed (the nearest rank, ceil(p/100*n)). It never reads below the
// true percentile, so thresholds err on the strict side. hdrhistogram-go's
// ValueAtPercentile rounds p/100*n to the nearest rank instead, a rank low
// whenever the fraction is under .5: the p95 of 12 requests was the 11th,
// passing p95<50ms with one of the 12 (8%) slower than that.
func valueAt(h *hdrhistogram.Histogram, p float64) int64 {
	n := h.TotalCount()
	if n == 0 || p <= 0 {
		return h.ValueAtPercentile(p)
	}
	x := min(p, 100) / 100 * float64(n)
	// Forgive the rounding of p/100*n (0.999*1000 is 999.0000000000001).
	k := max(math.Ceil(x-x*1e-12), 1)
	// ValueAtPercentile takes the rank int(q/100*n + 0.5); rank k - 0.25
	// is well inside k's interval whatever the rounding of q/100*n.
	return h.ValueAtPercentile(100 * (k - 0.25) / float64(n))
}

// maxOf returns the largest value of h (the upper end of its bucket), or
// 0 when h is empty: hdrhistogram-go's Max is then the end of the first
// bucket, which a report would show as a latency of 1µs.
func maxOf(h *hdrhistogram.Histogram) int64 {
	if h.TotalCount() == 0 {
		return 0
	}
	return h.Max()
}

// stat accumulates one request name's results (or all of them).
type stat struct {
	h      *hdrhistogram.Histogram
	count  int64
	errors int64
	status map[string]int64 // by status code, or "error" for no response
}

func newStat() *stat {
	return &stat{h: newHist(histDigits), status: map[string]int64{}}
}

// bucket is one second of the time series, by completion time.
type bucket struct {
	h      *hdrhistogram.Histogram
	count  int64
	errors int64
}

// recorder collects the results of a run. It is safe for concurrent use.
type recorder struct {
	start time.Time

	mu         sync.Mutex
	all        *stat
	byName     map[string]*stat
	lag        *hdrhistogram.Histogram // open loop: actual start minus intended start
	series     []*bucket
	errSamples map[string]int64
	iterations int64
	inFlight   int64
}

func newRecorder(start time.Time) *recorder {
	return &recorder{
		start: start, all: newStat(), byName: map[string]*stat{},
		lag: newHist(histDigits), errSamples: map[string]int64{},
	}
}

// result is one request's outcome.
type result struct {
	name    string
	latency time.Duration // from the intended send time to the end of the body
	end     time.Time
	status  int    // 0: no response
	err     string // "" for success
}

func clampHist(d time.Duration) int64 {
	return min(max(int64(d), 0), histMax)
}

func (r *recorder) record(res result) {
	v := clampHist(res.latency)
	code := "error"
	if res.status != 0 {
		code = strconv.Itoa(res.status)
	}
	sec := max(0, int(res.end.Sub(r.start)/time.Second))

	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.byName[res.name]
	if st == nil {
		st = newStat()
		r.byName[res.name] = st
	}
	for _, s := range [2]*stat{r.all, st} {
		s.h.RecordValue(v)
		s.count++
		s.status[code]++
		if res.err != "" {
			s.errors++
		}
	}
	for len(r.series) <= sec {
		r.series = append(r.series, &bucket{h: newHist(seriesDigits)})
	}
	b := r.series[sec]
	b.h.RecordValue(v)
	b.count++
	if res.err != "" {
		b.errors++
		r.addSample(res.name + ": " + res.err)
	}
}

// sample notes a problem that is not a failed request.
func (r *recorder) sample(msg string) {
	r.mu.Lock()
	r.addSample(msg)
	r.mu.Unlock()
}

// addSample counts an error message; only the first maxErrSamples distinct
// messages are kept.
func (r *recorder) addSample(msg string) {
	if _, ok := r.errSamples[msg]; ok || len(r.errSamples) < maxErrSamples {
		r.errSamples[msg]++
	}
}

// recordLag notes how late an open-loop iteration started.
func (r *recorder) recordLag(d time.Duration) {
	r.mu.Lock()
	r.lag.RecordValue(clampHist(d))
	r.mu.Unlock()
}

// iterationStarted and iterationDone count iterations and those in flight.
func (r *recorder) iterationStarted() {
	r.mu.Lock()
	r.iterations++
	r.inFlight++
	r.mu.Unlock()
}

func (r *recorder) iterationDone() {
	r.mu.Lock()
	r.inFlight--
	r.mu.Unlock()
}

// progress is what the progress line shows.
type progress struct {
	elapsed          time.Duration
	count, errors    int64
	lastCount        int64         // requests completed in the last full second
	lastP50, lastP99 time.Duration // of the last full second
	inFlight         int64
	maxLag           time.Duration
}

func (r *recorder) progress(now time.Time) progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := progress{
		elapsed: now.Sub(r.start), count: r.all.count, errors: r.all.errors,
		inFlight: r.inFlight, maxLag: time.Duration(maxOf(r.lag)),
	}
	if sec := int(p.elapsed/time.Second) - 1; sec >= 0 && sec < len(r.series) {
		b := r.series[sec]
		p.lastCount = b.count
		p.lastP50 = time.Duration(valueAt(b.h, 50))
		p.lastP99 = time.Duration(valueAt(b.h, 99))
	}
	return p
}

// names returns the request names seen, in report order.
func (r *recorder) names() []string {
	var names []string
	for _, n := range RequestNames {
		if r.byName[n] != nil {
			names = append(names, n)
		}
	}
	for n := range r.byName {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// lookup returns the statistics of a request name, or of all requests for
// "" (nil if there were none).
func (r *recorder) lookup(name string) *stat {
	if name == "" {
		return r.all
	}
	return r.byName[name]
}

// reportPercentiles are the percentiles of the report's tables.
var reportPercentiles = []float64{50, 90, 95, 99, 99.9}

// summarize turns a stat into a report entry; seconds is the length of the
// run for the request rate.
func summarize(name string, st *stat, seconds float64) RequestStats {
	rs := RequestStats{
		Name: name, Count: st.count, Errors: st.errors, Status: st.status,
		MinMs: ms(time.Duration(st.h.Min())), MeanMs: st.h.Mean() / 1e6, MaxMs: ms(time.Duration(st.h.Max())),
	}
	if st.count > 0 {
		rs.ErrorRate = float64(st.errors) / float64(st.count)
	}
	if seconds > 0 {
		rs.RPS = float64(st.count) / seconds
	}
	for _, p := range reportPercentiles {
		rs.Percentiles = append(rs.Percentiles, PercentileMs{P: p, Ms: ms(time.Duration(valueAt(st.h, p)))})
	}
	rs.Distribution = distribution(st.h)
	return rs
}

// distribution samples a histogram's percentile curve evenly on the log
// scale of 1/(1-p) (the HdrHistogram plot), from the minimum to as far as
// the number of samples supports, ending with the maximum.
func distribution(h *hdrhistogram.Histogram) []PercentileMs {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	var out []PercentileMs
	const steps = 10 // points per decade
	top := math.Log10(float64(n))
	for i := 0; ; i++ {
		x := float64(i) / steps
		if x > top {
			break
		}
		p := 100 * (1 - math.Pow(10, -x))
		out = append(out, PercentileMs{P: p, Ms: ms(time.Duration(valueAt(h, p)))})
	}
	out = append(out, PercentileMs{P: 100, Ms: ms(time.Duration(h.Max()))})
	return out
}

// timeSeries returns the per-second series of a run that lasted elapsed.
func (r *recorder) timeSeries(elapsed time.Duration) []Second {
	out := make([]Second, len(r.series))
	for i, b := range r.series {
		span := min(1, elapsed.Seconds()-float64(i))
		out[i] = Second{T: i + 1, SpanS: max(span, 0.001), Requests: b.count, Errors: b.errors}
		if b.count > 0 {
			out[i].P50Ms = ms(time.Duration(valueAt(b.h, 50)))
			out[i].P90Ms = ms(time.Duration(valueAt(b.h, 90)))
			out[i].P99Ms = ms(time.Duration(valueAt(b.h, 99)))
			out[i].MaxMs = ms(time.Duration(b.h.Max()))
		}
	}
	return out
}
