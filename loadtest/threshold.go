package loadtest

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrThresholds is returned by Run, with the report, when a threshold
// failed.
var ErrThresholds = errors.New("thresholds failed")

// Threshold is a pass/fail criterion on the requests of a run, written
// "[request:]metric<limit", e.g. "p99<20ms", "search_page:p95<=10ms",
// "errors<0.1%". Metrics are latency percentiles (p50, p99, p99.9, any
// percentile in (0, 100]), mean and max, compared with a Go duration, and
// errors, the share of failed requests, compared with a percentage or a
// fraction. Without a request name a threshold applies to all requests.
type Threshold struct {
	Request    string        // request name, or "" for all requests
	Metric     string        // "p99", "mean", "max" or "errors", as written
	Percentile float64       // for percentile metrics, in (0, 100]
	OrEqual    bool          // "<=" rather than "<"
	Latency    time.Duration // the limit of a latency metric
	ErrorRate  float64       // the limit of errors, a fraction in [0, 1]
	expr       string
}

// ParseThresholds parses a comma-separated list of thresholds. The empty
// string and "none" are no thresholds.
func ParseThresholds(s string) ([]Threshold, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return nil, nil
	}
	var ts []Threshold
	for _, part := range strings.Split(s, ",") {
		t, err := parseThreshold(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func parseThreshold(s string) (Threshold, error) {
	t := Threshold{expr: s}
	bad := func(why string) (Threshold, error) {
		return Threshold{}, fmt.Errorf("threshold %q: %s (want e.g. p99<20ms, search:p95<=10ms, errors<0.1%%)", s, why)
	}
	i := strings.IndexByte(s, '<')
	if i < 0 {
		return bad("no <")
	}
	lhs, rhs := s[:i], s[i+1:]
	if strings.HasPrefix(rhs, "=") {
		t.OrEqual, rhs = true, rhs[1:]
	}
	if req, metric, ok := strings.Cut(lhs, ":"); ok {
		if req == "" {
			return bad("empty request name")
		}
		// A misspelt name would only show after the whole run, as a
		// threshold on no requests (and pass in k6, which has no samples).
		if !slices.Contains(RequestNames, req) {
			return bad(fmt.Sprintf("unknown request %q (requests: %s; no name for all of them)", req, strings.Join(RequestNames, ", ")))
		}
		t.Request, lhs = req, metric
	}
	t.Metric = lhs
	switch {
	case lhs == "errors":
		// Exactly, then rounded once: 0.9/100 in floating point is a hair
		// above 9/1000, so errors<0.9% would pass with 9 errors in 1000.
		num := strings.TrimSuffix(rhs, "%")
		v, ok := new(big.Rat).SetString(num)
		if !ok || strings.Contains(num, "/") || v.Sign() < 0 {
			return bad("errors need a percentage or a fraction")
		}
		if len(num) < len(rhs) {
			v.Quo(v, big.NewRat(100, 1))
		}
		if v.Cmp(big.NewRat(1, 1)) > 0 {
			return bad("an error share is at most 100%")
		}
		t.ErrorRate, _ = v.Float64()
		return t, nil
	case lhs == "mean" || lhs == "max":
	case strings.HasPrefix(lhs, "p"):
		p, err := strconv.ParseFloat(lhs[1:], 64)
		if err != nil || !(p > 0 && p <= 100) {
			return bad("percentile must be in (0, 100]")
		}
		t.Percentile = p
	default:
		return bad("unknown metric " + strconv.Quote(lhs))
	}
	d, err := time.ParseDuration(rhs)
	if err != nil || d <= 0 {
		return bad("latency limit must be a positive duration such as 20ms")
	}
	t.Latency = d
	return t, nil
}

// String returns the threshold as written.
func (t Threshold) String() string { return t.expr }

// ThresholdResult is a threshold checked against a run.
type ThresholdResult struct {
	Threshold string  `json:"threshold"`
	Request   string  `json:"request"` // "" for all requests
	Metric    string  `json:"metric"`
	Limit     float64 `json:"limit"`  // milliseconds, or a fraction for errors
	Actual    float64 `json:"actual"` // the same unit; 0 when there were no requests
	Passed    bool    `json:"passed"`
	Note      string  `json:"note,omitempty"`
}

// check evaluates t against the statistics of its request (nil when the
// run made no such request: that fails, as a criterion on nothing cannot be
// said to hold).
func (t Threshold) check(st *stat) ThresholdResult {
	r := ThresholdResult{Threshold: t.expr, Request: t.Request, Metric: t.Metric}
	if t.Metric == "errors" {
		r.Limit = t.ErrorRate
	} else {
		r.Limit = ms(t.Latency)
	}
	if st == nil || st.count == 0 {
		r.Note = "no requests"
		return r
	}
	cmp := func(actual, limit float64) bool {
		if t.OrEqual {
			return actual <= limit
		}
		return actual < limit
	}
	var actual time.Duration
	switch {
	case t.Metric == "errors":
		r.Actual = float64(st.errors) / float64(st.count)
		r.Passed = cmp(r.Actual, t.ErrorRate)
		return r
	case t.Metric == "mean":
		actual = time.Duration(st.h.Mean())
	case t.Metric == "max":
		actual = time.Duration(st.h.Max())
	default:
		actual = time.Duration(valueAt(st.h, t.Percentile))
	}
	r.Actual = ms(actual)
	r.Passed = cmp(float64(actual), float64(t.Latency))
	return r
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }
