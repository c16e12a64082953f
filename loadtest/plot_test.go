package loadtest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// seconds returns a series of n full seconds at rate requests a second.
func seconds(n int, rate int64) []Second {
	var s []Second
	for i := range n {
		s = append(s, Second{T: i + 1, SpanS: 1, Requests: rate, P50Ms: 0.3, P90Ms: 0.5, P99Ms: 0.9, MaxMs: 2})
	}
	return s
}

var tickLabel = regexp.MustCompile(`class="tick"[^>]*>([^<]*)</text>`)

// TestPlotTickLabels: the axes of short runs are labelled 0s, 0.2s, 0.4s,
// ..., not with the rounding errors of adding 0.2 up (the report showed
// "0.6000000000000001s" and "1.5999999999999999s").
func TestPlotTickLabels(t *testing.T) {
	for n := 1; n <= 3; n++ {
		for _, svg := range []string{latencyPlot(seconds(n, 50)), throughputPlot(seconds(n, 50))} {
			var times []string
			for _, m := range tickLabel.FindAllStringSubmatch(svg, -1) {
				if strings.HasSuffix(m[1], "s") && !strings.HasSuffix(m[1], "ms") && !strings.HasSuffix(m[1], "µs") && m[1] != "requests/s" && m[1] != "errors/s" {
					times = append(times, m[1])
				}
			}
			if len(times) < 2 || times[0] != "0s" || times[len(times)-1] != strconv.Itoa(n)+"s" {
				t.Errorf("%ds run: time ticks %q, want 0s to %ds", n, times, n)
			}
			for _, l := range times {
				if len(l) > 5 {
					t.Errorf("%ds run: tick label %q", n, l)
				}
			}
		}
	}
}

// TestPlotOneSecond: a run of one second has one point a line; each is
// drawn (a polyline through one point shows nothing, so the latency and
// throughput plots of a 1s run were empty).
func TestPlotOneSecond(t *testing.T) {
	s := seconds(1, 50)
	s[0].Errors = 5
	for name, tc := range map[string]struct {
		svg    string
		colors []string
	}{
		"latency":    {latencyPlot(s), []string{"#2563eb", "#16a34a", "#d97706", "#dc2626"}},
		"throughput": {throughputPlot(s), []string{"#2563eb", "#dc2626"}},
	} {
		for _, c := range tc.colors {
			line := regexp.MustCompile(`<polyline[^>]*stroke="` + c + `" points="[\d.]+,[\d.]+ [\d.]+,[\d.]+`)
			dot := regexp.MustCompile(`<circle [^>]*fill="` + c + `"`)
			if !line.MatchString(tc.svg) && !dot.MatchString(tc.svg) {
				t.Errorf("%s plot: nothing visible drawn in %s:\n%s", name, c, tc.svg)
			}
		}
	}
}

// TestPercentileLegendClearsTitle: mixed names eight requests; their
// legend, drawn right to left from the right edge, ran over the plot's
// title. It must sit right of the title or on a row of its own above the
// plotting area.
func TestPercentileLegendClearsTitle(t *testing.T) {
	var reqs []RequestStats
	for _, n := range append([]string{"all"}, RequestNames...) {
		if n == ReqHealthz {
			continue
		}
		reqs = append(reqs, RequestStats{Name: n, Distribution: []PercentileMs{{P: 0, Ms: 0.2}, {P: 50, Ms: 0.4}, {P: 100, Ms: 3}}})
	}
	for _, k := range []int{1, 2, len(reqs)} {
		svg := percentilePlot(reqs[:k])
		title := regexp.MustCompile(`<text x="([\d.]+)" y="18" class="title">([^<]*)</text>`).FindStringSubmatch(svg)
		area := regexp.MustCompile(`<rect x="[\d.]+" y="([\d.]+)" [^>]*class="area"`).FindStringSubmatch(svg)
		if title == nil || area == nil {
			t.Fatalf("no title or plotting area in %s", svg)
		}
		titleX, _ := strconv.ParseFloat(title[1], 64)
		titleEnd := titleX + 7*float64(len(title[2])) // 13px semibold: at least 7px a character
		top, _ := strconv.ParseFloat(area[1], 64)
		keys := regexp.MustCompile(`<rect x="([\d.]+)" y="([\d.]+)" width="12" height="4"`).FindAllStringSubmatch(svg, -1)
		if len(keys) != k {
			t.Fatalf("%d requests: %d legend keys", k, len(keys))
		}
		for _, m := range keys {
			x, _ := strconv.ParseFloat(m[1], 64)
			y, _ := strconv.ParseFloat(m[2], 64)
			if y < 18 && x < titleEnd || y >= 18 && y+10 > top {
				t.Errorf("%d requests: legend key at (%g, %g) overlaps the title (to x %g) or the plot (from y %g)", k, x, y, titleEnd, top)
			}
		}
	}
}
