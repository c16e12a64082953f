package loadtest

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The plots are inline SVG written here, so a report is one file that works
// offline: no scripts, no fonts, no CDN.

// plot is a chart being drawn: a plotting area inside margins, an x scale
// and a y scale (linear or log10).
type plot struct {
	b                      strings.Builder
	w, h                   float64 // whole image, px
	left, right, top, bott float64 // margins, px
	x0, x1, y0, y1         float64 // data ranges
	logY                   bool
	titleW                 float64 // the title's width, px (estimated)
}

// Margins above the plotting area: the title row alone, or the title row
// and a legend row under it (for a legend too wide to sit beside the title).
const (
	topTitle       = 28
	topTitleLegend = 46
)

func newPlot(w, h float64, x0, x1, y0, y1 float64, logY bool) *plot {
	return newPlotTop(topTitle, w, h, x0, x1, y0, y1, logY)
}

// newPlotTop is newPlot with top px above the plotting area.
func newPlotTop(top, w, h float64, x0, x1, y0, y1 float64, logY bool) *plot {
	p := &plot{w: w, h: h, left: 64, right: 16, top: top, bott: 40, x0: x0, x1: x1, y0: y0, y1: y1, logY: logY}
	if p.x1 <= p.x0 {
		p.x1 = p.x0 + 1
	}
	if p.logY {
		p.y0, p.y1 = math.Log10(max(y0, 1e-6)), math.Log10(max(y1, 1e-6))
	}
	if p.y1 <= p.y0 {
		p.y1 = p.y0 + 1
	}
	fmt.Fprintf(&p.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" class="plot">`, w, h)
	fmt.Fprintf(&p.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="area"/>`, p.left, p.top, p.w-p.left-p.right, p.h-p.top-p.bott)
	return p
}

// px maps data coordinates to pixels.
func (p *plot) px(x, y float64) (float64, float64) {
	if p.logY {
		y = math.Log10(max(y, 1e-6))
	}
	fx := (x - p.x0) / (p.x1 - p.x0)
	fy := (y - p.y0) / (p.y1 - p.y0)
	fy = min(max(fy, -0.02), 1.02)
	return p.left + fx*(p.w-p.left-p.right), p.h - p.bott - fy*(p.h-p.top-p.bott)
}

func (p *plot) title(s string) {
	p.titleW = titleWidth(s)
	fmt.Fprintf(&p.b, `<text x="%.1f" y="18" class="title">%s</text>`, p.left, html.EscapeString(s))
}

// xTick draws a vertical grid line at data x with a label.
func (p *plot) xTick(x float64, label string) {
	X, _ := p.px(x, 0)
	fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, X, p.top, X, p.h-p.bott)
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, X, p.h-p.bott+14, html.EscapeString(label))
}

// yTick draws a horizontal grid line at data y with a label.
func (p *plot) yTick(y float64, label string) {
	_, Y := p.px(p.x0, y)
	fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, p.left, Y, p.w-p.right, Y)
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, p.left-6, Y+4, html.EscapeString(label))
}

func (p *plot) axisLabels(x, y string) {
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" class="label" text-anchor="middle">%s</text>`, p.left+(p.w-p.left-p.right)/2, p.h-6, html.EscapeString(x))
	fmt.Fprintf(&p.b, `<text x="14" y="%.1f" class="label" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, p.top+(p.h-p.top-p.bott)/2, p.top+(p.h-p.top-p.bott)/2, html.EscapeString(y))
}

// titleWidth estimates the width of a title in px (13px semibold
// system-ui: some 7.5px a character).
func titleWidth(s string) float64 { return 7.5 * float64(utf8.RuneCountInString(s)) }

// line draws a polyline through the points; class picks its style. A
// single point (a run of one second) is a dot: a polyline of one point
// draws nothing.
func (p *plot) line(xs, ys []float64, class, color string) {
	if len(xs) == 0 {
		return
	}
	if len(xs) == 1 {
		X, Y := p.px(xs[0], ys[0])
		fmt.Fprintf(&p.b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, X, Y, color)
		return
	}
	fmt.Fprintf(&p.b, `<polyline class="%s" stroke="%s" points="`, class, color)
	for i := range xs {
		X, Y := p.px(xs[i], ys[i])
		fmt.Fprintf(&p.b, "%.1f,%.1f ", X, Y)
	}
	p.b.WriteString(`"/>`)
}

// legendWidth is the width in px of the legend of names.
func legendWidth(names []string) float64 {
	var w float64
	for _, n := range names {
		w += float64(8*len(n) + 26)
	}
	return w
}

// legendFits reports whether the legend of names fits in the title row,
// right of a title this wide, in a plot w px wide.
func legendFits(w, titleW float64, names []string) bool {
	return 64+titleW+16+legendWidth(names) <= w-16
}

// legend draws coloured names in a row at the top right: beside the title,
// or under it when they do not fit there (the plot must then have been
// made with topTitleLegend).
func (p *plot) legend(names, colors []string) {
	x, y := p.w-p.right, 0.0
	if !legendFits(p.w, p.titleW, names) {
		y = 18
	}
	for i := len(names) - 1; i >= 0; i-- {
		x -= float64(8*len(names[i]) + 26)
		fmt.Fprintf(&p.b, `<rect x="%.1f" y="%.0f" width="12" height="4" fill="%s"/>`, x, 9+y, colors[i])
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.0f" class="tick">%s</text>`, x+16, 15+y, html.EscapeString(names[i]))
	}
}

func (p *plot) svg() string {
	p.b.WriteString(`</svg>`)
	return p.b.String()
}

// tickMs labels an axis tick in milliseconds: "500µs", "2ms", "1.5s".
func tickMs(v float64) string {
	trim := func(x float64) string { return strconv.FormatFloat(math.Round(x*1000)/1000, 'f', -1, 64) }
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return trim(v*1000) + "µs"
	case v < 1000:
		return trim(v) + "ms"
	default:
		return trim(v/1000) + "s"
	}
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) that
// divides span into about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// steps returns 0, step, 2*step, ... up to hi. Each is k*step, not a sum
// of steps, and labels print them to 6 digits: adding 0.2 three times
// makes 0.6000000000000001, which the axis showed as such.
func steps(hi, step float64) []float64 {
	var vs []float64
	for k := 0; float64(k)*step <= hi*(1+1e-9); k++ {
		vs = append(vs, float64(k)*step)
	}
	return vs
}

// timeTicks labels the x axis of a plot over time, in seconds.
func (p *plot) timeTicks() {
	for _, t := range steps(p.x1, niceStep(p.x1, 10)) {
		p.xTick(t, strconv.FormatFloat(t, 'g', 6, 64)+"s")
	}
}

// logTicks returns the 1-2-5 values within [lo, hi].
func logTicks(lo, hi float64) []float64 {
	var ts []float64
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, e); v >= lo && v <= hi {
				ts = append(ts, v)
			}
		}
	}
	return ts
}

var palette = []string{"#1f2937", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#dc2626"}

// plotted drops a last second shorter than half a second: too few requests
// to plot with the others.
func plotted(series []Second) []Second {
	if n := len(series); n > 1 && series[n-1].SpanS < 0.5 {
		return series[:n-1]
	}
	return series
}

// latencyPlot draws the per-second p50, p90, p99 and max latency on a log
// scale.
func latencyPlot(series []Second) string {
	series = plotted(series)
	lo, hi := math.Inf(1), 0.0
	var n int
	for _, s := range series {
		if s.Requests == 0 {
			continue
		}
		n = max(n, s.T)
		lo = min(lo, s.P50Ms)
		hi = max(hi, s.MaxMs)
	}
	if n == 0 {
		return emptyPlot("Latency over time: no requests")
	}
	lo, hi = max(lo/1.5, 0.001), hi*1.5
	p := newPlot(900, 300, 0, float64(n), lo, hi, true)
	p.title("Latency over time (per second, log scale)")
	for _, t := range logTicks(lo, hi) {
		p.yTick(t, tickMs(t))
	}
	p.timeTicks()
	names := []string{"p50", "p90", "p99", "max"}
	colors := []string{"#2563eb", "#16a34a", "#d97706", "#dc2626"}
	for k, name := range names {
		var xs, ys []float64
		for _, s := range series {
			if s.Requests == 0 {
				continue
			}
			v := [...]float64{s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs}[k]
			xs, ys = append(xs, float64(s.T)), append(ys, v)
		}
		class := "series"
		if name == "max" {
			class = "series thin"
		}
		p.line(xs, ys, class, colors[k])
	}
	p.legend(names, colors)
	p.axisLabels("time since start", "latency")
	return p.svg()
}

// throughputPlot draws completed requests and errors per second.
func throughputPlot(series []Second) string {
	series = plotted(series)
	if len(series) == 0 {
		return emptyPlot("Throughput over time: no requests")
	}
	var hi float64
	for _, s := range series {
		hi = max(hi, float64(s.Requests)/s.SpanS)
	}
	hi = max(hi*1.15, 1)
	p := newPlot(900, 220, 0, float64(series[len(series)-1].T), 0, hi, false)
	p.title("Throughput over time (requests completed per second)")
	for _, v := range steps(hi, niceStep(hi, 4)) {
		p.yTick(v, strconv.FormatFloat(v, 'g', 6, 64))
	}
	p.timeTicks()
	var tx, ty, ey []float64
	for _, s := range series {
		tx = append(tx, float64(s.T))
		ty = append(ty, float64(s.Requests)/s.SpanS)
		ey = append(ey, float64(s.Errors)/s.SpanS)
	}
	p.line(tx, ty, "series", "#2563eb")
	p.line(tx, ey, "series", "#dc2626")
	p.legend([]string{"requests/s", "errors/s"}, []string{"#2563eb", "#dc2626"})
	p.axisLabels("time since start", "per second")
	return p.svg()
}

// percentilePlot draws the latency percentile curve of each request name
// against 1/(1-p) on a log scale, the HdrHistogram way: the tail gets as
// much room as the body.
func percentilePlot(reqs []RequestStats) string {
	var xmax, hi float64
	var names []string
	for _, r := range reqs {
		for i, d := range r.Distribution {
			xmax = max(xmax, distX(r.Distribution, i))
			hi = max(hi, d.Ms)
		}
		if len(r.Distribution) > 0 {
			names = append(names, r.Name)
		}
	}
	if hi == 0 {
		return emptyPlot("Latency by percentile: no requests")
	}
	hi *= 1.1
	// The legend names every request: for mixed, too many to sit beside
	// the title, so it gets a row of its own.
	const title = "Latency by percentile (all requests of the run)"
	top := float64(topTitle)
	if !legendFits(900, titleWidth(title), names) {
		top = topTitleLegend
	}
	p := newPlotTop(top, 900, 320, 0, max(xmax, 1), 0, hi, false)
	p.title(title)
	for _, v := range steps(hi, niceStep(hi, 5)) {
		p.yTick(v, tickMs(v))
	}
	for d := 0.0; d <= p.x1; d++ {
		label := "0%"
		if d > 0 {
			label = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", 100*(1-math.Pow(10, -d))), "0"), ".") + "%"
		}
		p.xTick(d, label)
	}
	var colors []string
	for k, r := range reqs {
		if len(r.Distribution) == 0 {
			continue
		}
		color := palette[k%len(palette)]
		var xs, ys []float64
		for i, d := range r.Distribution {
			xs, ys = append(xs, distX(r.Distribution, i)), append(ys, d.Ms)
		}
		class := "series"
		if r.Name == "all" {
			class = "series thick"
		}
		p.line(xs, ys, class, color)
		colors = append(colors, color)
	}
	p.legend(names, colors)
	p.axisLabels("percentile", "latency")
	return p.svg()
}

// distX is the plot position of the i-th point of a distribution:
// log10(1/(1-p)); the final 100% (the maximum) goes one step past the last.
func distX(d []PercentileMs, i int) float64 {
	if d[i].P < 100 {
		return -math.Log10(1 - d[i].P/100)
	}
	if i == 0 {
		return 0
	}
	return distX(d, i-1) + 0.1
}

func emptyPlot(msg string) string {
	p := newPlot(900, 80, 0, 1, 0, 1, false)
	p.title(msg)
	return p.svg()
}
