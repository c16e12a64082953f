package loadtest

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func TestParseThresholds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Threshold
	}{
		{"", nil},
		{"none", nil},
		{"p99<20ms", []Threshold{{Metric: "p99", Percentile: 99, Latency: 20 * time.Millisecond}}},
		{"p99.9<=1.5s", []Threshold{{Metric: "p99.9", Percentile: 99.9, OrEqual: true, Latency: 1500 * time.Millisecond}}},
		{"p100<1s", []Threshold{{Metric: "p100", Percentile: 100, Latency: time.Second}}},
		{"mean<250us,max<1ns", []Threshold{{Metric: "mean", Latency: 250 * time.Microsecond}, {Metric: "max", Latency: 1}}},
		{"errors<0.1%", []Threshold{{Metric: "errors", ErrorRate: 0.001}}},
		{"errors<=0", []Threshold{{Metric: "errors", OrEqual: true}}},
		{"details:errors<0.5", []Threshold{{Request: "details", Metric: "errors", ErrorRate: 0.5}}},
		{" search : p50<1ms ", nil}, // spaces inside are not allowed: see the error cases
	} {
		got, err := ParseThresholds(tc.in)
		if tc.in == " search : p50<1ms " {
			if err == nil {
				t.Errorf("%q: accepted as %+v", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %+v", tc.in, got)
			continue
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			g.expr = ""
			if g != w {
				t.Errorf("%q: got %+v, want %+v", tc.in, g, w)
			}
		}
	}
	for _, bad := range []string{"p99", "p99>20ms", "p0<1ms", "p101<1ms", "pxx<1ms", "p99<fast", "p99<-1ms", "p99<0s",
		"errors<101%", "errors<-1%", "errors<abc", "rps<5", ":p99<1ms", "p99<20ms,,errors<1%", "p99<20",
		// Request names the runner never uses, refused before the run
		// rather than failing after it as "no requests".
		"detail:p99<5ms", "all:p99<5ms", "Search:errors<1%"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestThresholdCheck(t *testing.T) {
	st := newStat()
	for i := 1; i <= 1000; i++ {
		st.h.RecordValue(int64(i) * int64(time.Microsecond))
		st.count++
	}
	st.errors = 2
	for _, tc := range []struct {
		expr   string
		pass   bool
		actual float64
	}{
		{"p50<1ms", true, 0.5},
		{"p99<990us", false, 0.99},
		{"p99<=991us", true, 0.99}, // HDR reports the top of the value's 0.1% bucket: 990.2µs
		{"max<1ms", false, 1},
		{"mean<600us", true, 0.5},
		{"errors<0.1%", false, 0.002},
		{"errors<=0.2%", true, 0.002},
	} {
		ts, err := ParseThresholds(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		r := ts[0].check(st)
		if r.Passed != tc.pass || math.Abs(r.Actual-tc.actual) > 0.002*tc.actual {
			t.Errorf("%s: %+v, want passed %v actual %g", tc.expr, r, tc.pass, tc.actual)
		}
	}
	if r := (Threshold{Metric: "p99", Percentile: 99, Latency: time.Second, expr: "x:p99<1s"}).check(nil); r.Passed || r.Note == "" {
		t.Errorf("no requests: %+v", r)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		ms         float64
		fmt, ticks string
	}{
		{0, "0", "0"}, {0.0123, "12µs", "12.3µs"}, {0.5, "500µs", "500µs"}, {2, "2.00ms", "2ms"},
		{12.345, "12.3ms", "12.345ms"}, {250, "250ms", "250ms"}, {1500, "1500ms", "1.5s"}, {12000, "12.0s", "12s"},
	} {
		if got := fmtMs(tc.ms); got != tc.fmt {
			t.Errorf("fmtMs(%g) = %q, want %q", tc.ms, got, tc.fmt)
		}
		if got := tickMs(tc.ms); got != tc.ticks {
			t.Errorf("tickMs(%g) = %q, want %q", tc.ms, got, tc.ticks)
		}
	}
	for _, tc := range []struct {
		span float64
		n    int
		want float64
	}{{10, 10, 1}, {9, 10, 1}, {30, 10, 5}, {0.7, 5, 0.2}, {12000, 4, 5000}} {
		if got := niceStep(tc.span, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("niceStep(%g, %d) = %g, want %g", tc.span, tc.n, got, tc.want)
		}
	}
	if got := logTicks(0.15, 3); len(got) != 4 || got[0] != 0.2 || got[3] != 2 {
		t.Errorf("logTicks(0.15, 3) = %v", got)
	}
}

func TestDistribution(t *testing.T) {
	h := newHist(histDigits)
	for i := 1; i <= 12345; i++ {
		h.RecordValue(int64(i) * 1000)
	}
	d := distribution(h)
	last := d[len(d)-1]
	if d[0].P != 0 || last.P != 100 || last.Ms < 12.3 || last.Ms > 12.36 {
		t.Fatalf("distribution from %+v to %+v", d[0], last)
	}
	// Up to 1 - 1/n: log10(12345) = 4.09 decades at 10 points each.
	if len(d) != 42 {
		t.Errorf("%d points", len(d))
	}
	for i := 1; i < len(d); i++ {
		if d[i].P <= d[i-1].P || d[i].Ms < d[i-1].Ms {
			t.Fatalf("not monotone at %d: %+v %+v", i, d[i-1], d[i])
		}
	}
}

// TestErrorThresholdAtTheLimit: an error share exactly at the limit fails
// "<" and passes "<=", whatever the limit's decimal digits. Dividing the
// percentage by 100 in floating point made 0.9% a hair more than 9/1000
// (so errors<0.9% passed with 9 errors in 1000) and 0.7% a hair less than
// 7/1000 (so errors<=0.7% failed with 7).
func TestErrorThresholdAtTheLimit(t *testing.T) {
	for _, count := range []int64{1000, 10000} {
		for tenths := int64(1); tenths <= 1000; tenths++ {
			st := newStat()
			st.count, st.errors = count, tenths*count/1000
			pct := strconv.FormatFloat(float64(tenths)/10, 'f', -1, 64)
			frac := strconv.FormatFloat(float64(tenths)/1000, 'f', -1, 64)
			for _, tc := range []struct {
				expr string
				pass bool
			}{
				{"errors<" + pct + "%", false}, {"errors<=" + pct + "%", true},
				{"errors<" + frac, false}, {"errors<=" + frac, true},
			} {
				ts, err := ParseThresholds(tc.expr)
				if err != nil {
					t.Fatal(err)
				}
				if r := ts[0].check(st); r.Passed != tc.pass {
					t.Errorf("%s with %d errors in %d: passed %v (limit %.20g, actual %.20g)", tc.expr, st.errors, count, r.Passed, r.Limit, r.Actual)
				}
			}
		}
	}
}
