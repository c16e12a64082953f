package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
)

// WriteHTML writes the report as one self-contained HTML page: summary,
// thresholds, per-request table, and the latency-over-time, throughput and
// percentile plots as inline SVG. It loads nothing from elsewhere.
func (r *Report) WriteHTML(w io.Writer) error {
	all, _ := r.Stats("all")
	data := struct {
		*Report
		All                     RequestStats
		Load                    string
		Latency, Rate, Percents template.HTML
		Percentiles             []float64
		Codes                   []string
	}{
		Report: r, All: all, Load: r.Load(),
		// The plots are built from numbers and escaped labels by plot.go.
		Latency:     template.HTML(latencyPlot(r.Series)),
		Rate:        template.HTML(throughputPlot(r.Series)),
		Percents:    template.HTML(percentilePlot(r.Requests)),
		Percentiles: reportPercentiles,
	}
	for code := range all.Status {
		data.Codes = append(data.Codes, code)
	}
	slices.Sort(data.Codes)
	return reportPage.Execute(w, data)
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":  fmtMs,
	"pct": func(f float64) string { return strconv.FormatFloat(100*f, 'g', 3, 64) + "%" },
	"f1":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"pass": func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	},
	"actual": func(t ThresholdResult) string { return t.actualString() },
	"limit": func(t ThresholdResult) string {
		if t.Metric == "errors" {
			return strconv.FormatFloat(100*t.Limit, 'g', 3, 64) + "%"
		}
		return tickMs(t.Limit)
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nearby load test: {{.Scenario}}, {{.Load}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 0; background: #f9fafb; }
main { max-width: 960px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #4b5563; margin: 0 0 16px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; font-size: 14px; vertical-align: middle; }
.PASS { background: #dcfce7; color: #166534; } .FAIL { background: #fee2e2; color: #991b1b; }
.NONE { background: #e5e7eb; color: #374151; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 12px; }
.card b { display: block; font-size: 20px; } .card span { color: #6b7280; font-size: 13px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e5e7eb; }
th, td { padding: 5px 9px; border-bottom: 1px solid #f3f4f6; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; } th { background: #f3f4f6; font-weight: 600; }
tr.all td { font-weight: 600; }
.plot { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; margin: 6px 0; }
.plot .area { fill: #fff; stroke: #d1d5db; } .plot .grid { stroke: #eef0f3; }
.plot .tick { font-size: 11px; fill: #4b5563; } .plot .label { font-size: 12px; fill: #374151; }
.plot .title { font-size: 13px; font-weight: 600; fill: #111827; }
.plot .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
.plot .thin { stroke-width: 1; stroke-dasharray: 4 3; } .plot .thick { stroke-width: 2.8; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; background: #fff; border: 1px solid #e5e7eb; padding: 10px 14px; }
dt { color: #6b7280; } dd { margin: 0; } code { font-size: 13px; }
.warn { background: #fef3c7; border: 1px solid #fcd34d; padding: 8px 12px; border-radius: 6px; }
</style>
</head>
<body><main>
<h1>nearby load test: {{.Scenario}}
{{if .Thresholds}}<span class="badge {{pass .Passed}}">{{pass .Passed}}</span>{{else}}<span class="badge NONE">no thresholds</span>{{end}}</h1>
<p class="sub">{{.Load}} against <code>{{.Target}}</code>{{if .OwnerURL}} and <code>{{.OwnerURL}}</code>{{end}}, started {{.Started.Format "2006-01-02 15:04:05 MST"}}. {{.Description}}</p>
{{if .Interrupted}}<p class="warn">The run was interrupted: these figures cover only part of it.</p>{{end}}
<div class="cards">
<div class="card"><b>{{.All.Count}}</b><span>requests</span></div>
<div class="card"><b>{{f1 .All.RPS}}</b><span>requests/s</span></div>
<div class="card"><b>{{.All.Errors}}</b><span>errors ({{pct .All.ErrorRate}})</span></div>
<div class="card"><b>{{ms (.All.Percentile 50)}}</b><span>p50 latency</span></div>
<div class="card"><b>{{ms (.All.Percentile 99)}}</b><span>p99 latency</span></div>
<div class="card"><b>{{ms .All.MaxMs}}</b><span>max latency</span></div>
</div>

{{if .Thresholds}}<h2>Thresholds</h2>
<table><tr><th>threshold</th><th>limit</th><th>measured</th><th>result</th></tr>
{{range .Thresholds}}<tr><td><code>{{.Threshold}}</code></td><td>{{limit .}}</td><td>{{actual .}}</td><td><span class="badge {{pass .Passed}}">{{pass .Passed}}</span></td></tr>
{{end}}</table>{{end}}

<h2>Latency</h2>
{{.Latency}}
{{.Rate}}
{{.Percents}}
<p class="sub">{{if eq .Mode "open"}}Open loop: latency counts from when each iteration was due to start, so time spent waiting behind a slow request is included (no coordinated omission).{{else}}Closed loop: each worker sends its next request when the last one is answered, so this measures throughput at a fixed concurrency; latency counts from the actual send.{{end}}
Percentiles come from an HDR histogram (3 significant digits).</p>

<h2>Requests</h2>
<table><tr><th>request</th><th>count</th><th>errors</th><th>req/s</th>{{range .Percentiles}}<th>p{{.}}</th>{{end}}<th>mean</th><th>max</th></tr>
{{range .Requests}}<tr{{if eq .Name "all"}} class="all"{{end}}><td>{{.Name}}</td><td>{{.Count}}</td><td>{{.Errors}}</td><td>{{f1 .RPS}}</td>{{$s := .}}{{range $.Percentiles}}<td>{{ms ($s.Percentile .)}}</td>{{end}}<td>{{ms .MeanMs}}</td><td>{{ms .MaxMs}}</td></tr>
{{end}}</table>
<p class="sub">Status codes: {{range $i, $c := .Codes}}{{if $i}}, {{end}}{{$c}} &times; {{index $.All.Status $c}}{{end}}{{if not .Codes}}none{{end}}.
{{with .Lag}}Schedule lag (how late the runner started iterations): p50 {{ms .P50Ms}}, p99 {{ms .P99Ms}}, max {{ms .MaxMs}}.{{end}}</p>

{{if .ErrorSamples}}<h2>Errors</h2>
<table><tr><th>message</th><th>count</th></tr>
{{range .ErrorSamples}}<tr><td>{{.Message}}</td><td>{{.Count}}</td></tr>
{{end}}</table>{{end}}

<h2>Run</h2>
<dl>
{{if .Command}}<dt>command</dt><dd><code>{{.Command}}</code></dd>{{end}}
<dt>scenario</dt><dd>{{.Scenario}}{{range $i, $w := .Weights}}{{if not $i}}: {{else}}, {{end}}{{$w.Scenario}} {{pct $w.Weight}}{{end}}</dd>
<dt>load</dt><dd>{{.Load}}</dd>
<dt>iterations</dt><dd>{{.Iterations}} in {{f1 .ElapsedS}} s</dd>
<dt>seed</dt><dd>{{.Seed}}</dd>
<dt>machine</dt><dd>{{.Machine}}{{if .Machine.Hostname}} ({{.Machine.Hostname}}){{end}}</dd>
</dl>
<p class="sub">Made by <code>go run ./cmd/loadtest</code>; the same data is in the JSON report.</p>
</main></body>
</html>
`))
