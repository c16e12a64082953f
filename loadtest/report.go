package loadtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run, written as JSON (WriteJSON) and as a
// self-contained HTML page (WriteHTML). Latencies are milliseconds; in open
// loop they are measured from the time each iteration was due to start, so a
// server that stalls is charged for the requests it delayed.
type Report struct {
	Version     int       `json:"version"` // of this format: 1
	Command     string    `json:"command,omitempty"`
	Scenario    string    `json:"scenario"`
	Description string    `json:"description"`
	Mode        string    `json:"mode"`                  // "open" (fixed arrival rate) or "closed" (fixed concurrency)
	Rate        float64   `json:"rate,omitempty"`        // iterations per second, open loop
	Concurrency int       `json:"concurrency,omitempty"` // workers, closed loop
	DurationS   float64   `json:"duration_s"`            // the configured bound
	MaxRequests int64     `json:"max_requests,omitempty"`
	Target      string    `json:"target"`
	OwnerURL    string    `json:"owner_url,omitempty"`
	Seed        uint64    `json:"seed"`
	Weights     []Weight  `json:"weights,omitempty"` // mixed: the weights in effect
	Started     time.Time `json:"started"`
	ElapsedS    float64   `json:"elapsed_s"` // to the end of the duration or the last response, if later (sooner when stopped early)
	Interrupted bool      `json:"interrupted,omitempty"`
	Machine     Machine   `json:"machine"`

	Iterations int64          `json:"iterations"`
	Requests   []RequestStats `json:"requests"` // "all" first, then by request name
	// Lag is how late open-loop iterations started behind schedule.
	Lag          *Lag              `json:"lag,omitempty"`
	Series       []Second          `json:"series"`
	Thresholds   []ThresholdResult `json:"thresholds"`
	Passed       bool              `json:"passed"`
	ErrorSamples []ErrorSample     `json:"error_samples,omitempty"`
}

// Lag is how late the open-loop runner started iterations, in
// milliseconds. It is part of every latency measured; when its p99 is not
// small next to the latencies, the runner was short of CPU (or hit
// MaxInFlight) and the figures describe the runner as much as the server.
type Lag struct {
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// RequestStats summarizes the requests of one name ("all" for every
// request).
type RequestStats struct {
	Name         string           `json:"name"`
	Count        int64            `json:"count"`
	Errors       int64            `json:"errors"`
	ErrorRate    float64          `json:"error_rate"`
	RPS          float64          `json:"rps"`
	MinMs        float64          `json:"min_ms"`
	MeanMs       float64          `json:"mean_ms"`
	MaxMs        float64          `json:"max_ms"`
	Percentiles  []PercentileMs   `json:"percentiles"`  // 50, 90, 95, 99, 99.9
	Distribution []PercentileMs   `json:"distribution"` // the percentile curve, for plotting
	Status       map[string]int64 `json:"status"`       // by HTTP status; "error" when there was no response
}

// PercentileMs is a latency percentile.
type PercentileMs struct {
	P  float64 `json:"p"` // percent
	Ms float64 `json:"ms"`
}

// Second is one second of the run, by the time requests completed.
type Second struct {
	T        int     `json:"t"`      // seconds since the start, at the end of the second
	SpanS    float64 `json:"span_s"` // 1, or less for the last, partial second
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// ErrorSample is a distinct error message and how often it was seen.
type ErrorSample struct {
	Message string `json:"message"`
	Count   int64  `json:"count"`
}

// Machine describes where the runner ran.
type Machine struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	CPU      string `json:"cpu,omitempty"` // model name, where known
	Go       string `json:"go"`
}

// String describes the machine in one line.
func (m Machine) String() string {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", cpu, m.CPUs, m.OS, m.Arch, m.Go)
}

// ThisMachine describes the machine the program runs on. The CPU model is
// read from /proc/cpuinfo where there is one.
func ThisMachine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// Stats returns the statistics of the named request ("all" for every
// request).
func (r *Report) Stats(name string) (RequestStats, bool) {
	for _, s := range r.Requests {
		if s.Name == name {
			return s, true
		}
	}
	return RequestStats{}, false
}

// Percentile returns the p-th percentile in milliseconds from the table
// (p must be one of 50, 90, 95, 99, 99.9).
func (s RequestStats) Percentile(p float64) float64 {
	for _, x := range s.Percentiles {
		if x.P == p {
			return x.Ms
		}
	}
	return 0
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Load describes the offered load in words, e.g. "open loop, 200
// iterations/s for 30s".
func (r *Report) Load() string {
	var b strings.Builder
	if r.Mode == "open" {
		fmt.Fprintf(&b, "open loop, %g iterations/s", r.Rate)
	} else {
		fmt.Fprintf(&b, "closed loop, %d workers", r.Concurrency)
	}
	fmt.Fprintf(&b, " for %s", time.Duration(r.DurationS*float64(time.Second)))
	if r.MaxRequests > 0 {
		fmt.Fprintf(&b, " or %d requests", r.MaxRequests)
	}
	return b.String()
}

// WriteSummary writes the human-readable summary: the load, a table of
// requests with their rates and latency percentiles, and the thresholds.
func (r *Report) WriteSummary(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "scenario %s against %s: %s\n", r.Scenario, r.Target, r.Load())
	fmt.Fprintf(bw, "%d iterations in %.1fs on %s\n", r.Iterations, r.ElapsedS, r.Machine)
	if r.Interrupted {
		fmt.Fprintln(bw, "INTERRUPTED: the figures cover only part of the run")
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request\tcount\terrors\treq/s\tp50\tp90\tp95\tp99\tp99.9\tmax\t")
	for _, s := range r.Requests {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t", s.Name, s.Count, s.Errors, s.RPS)
		for _, p := range reportPercentiles {
			fmt.Fprintf(tw, "%s\t", fmtMs(s.Percentile(p)))
		}
		fmt.Fprintf(tw, "%s\t\n", fmtMs(s.MaxMs))
	}
	tw.Flush()
	if r.Lag != nil {
		fmt.Fprintf(bw, "schedule lag: p50 %s, p99 %s, max %s (how late the runner started iterations; part of every latency)\n",
			fmtMs(r.Lag.P50Ms), fmtMs(r.Lag.P99Ms), fmtMs(r.Lag.MaxMs))
	}
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(bw, "error x%d: %s\n", e.Count, e.Message)
	}
	for _, t := range r.Thresholds {
		fmt.Fprintf(bw, "threshold %-24s %s  (%s)\n", t.Threshold, passFail(t.Passed), t.actualString())
	}
	if len(r.Thresholds) > 0 {
		fmt.Fprintf(bw, "thresholds: %s\n", passFail(r.Passed))
	}
	return bw.Flush()
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func (t ThresholdResult) actualString() string {
	if t.Note != "" {
		return t.Note
	}
	if t.Metric == "errors" {
		return fmt.Sprintf("%.3g%%", 100*t.Actual)
	}
	return fmtMs(t.Actual)
}

// fmtMs formats milliseconds with a unit that keeps 3 significant digits.
func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return fmt.Sprintf("%.0fµs", v*1000)
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	case v < 10000:
		return fmt.Sprintf("%.0fms", v)
	default:
		return fmt.Sprintf("%.1fs", v/1000)
	}
}
