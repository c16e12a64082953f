package indexer

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// barEvery is how often a progress bar is redrawn.
const barEvery = 250 * time.Millisecond

// progress reports how a long read goes: a log line every interval with
// rows, rows/s and, when the total is estimated, percent and ETA; and a bar
// on a terminal.
type progress struct {
	logger   *slog.Logger
	term     *Terminal
	expected int64
	rows     *atomic.Int64
	start    time.Time
	done     chan struct{}
	wg       sync.WaitGroup
}

// startProgress reports on rows until stop. every ≤ 0 is taken as
// DefaultProgressEvery, except that a negative every with no terminal
// reports nothing.
func startProgress(logger *slog.Logger, term *Terminal, expected int64, every time.Duration, rows *atomic.Int64) *progress {
	p := &progress{logger: logger, term: term, expected: expected, rows: rows, start: time.Now(), done: make(chan struct{})}
	if every < 0 && term == nil {
		return p
	}
	if every == 0 {
		every = DefaultProgressEvery
	}
	p.wg.Go(func() {
		var logTick, barTick <-chan time.Time
		if every > 0 {
			t := time.NewTicker(every)
			defer t.Stop()
			logTick = t.C
		}
		if term != nil {
			t := time.NewTicker(barEvery)
			defer t.Stop()
			barTick = t.C
		}
		for {
			select {
			case <-p.done:
				return
			case <-logTick:
				p.log()
			case <-barTick:
				term.SetBar(p.bar(40))
			}
		}
	})
	return p
}

// stop ends the reports; a complete read gets a last bar at 100%.
func (p *progress) stop(complete bool) {
	close(p.done)
	p.wg.Wait()
	if p.term != nil {
		if complete && p.expected > 0 {
			p.expected = p.rows.Load()
		}
		p.term.SetBar(p.bar(40))
		p.term.EndBar()
	}
}

// status returns rows read, rows/s, the fraction done and the ETA (the
// last two negative when unknown).
func (p *progress) status() (rows int64, rate, frac float64, eta time.Duration) {
	rows = p.rows.Load()
	elapsed := time.Since(p.start).Seconds()
	if elapsed > 0 {
		rate = float64(rows) / elapsed
	}
	frac, eta = -1, -1
	if p.expected > 0 && rows <= p.expected {
		frac = float64(rows) / float64(p.expected)
		if rate > 0 {
			eta = time.Duration(float64(p.expected-rows) / rate * float64(time.Second))
		}
	}
	return rows, rate, frac, eta
}

func (p *progress) log() {
	rows, rate, frac, eta := p.status()
	attrs := []any{"rows", rows, "rows_per_s", int64(rate), "elapsed_s", int64(time.Since(p.start).Seconds())}
	if frac >= 0 {
		attrs = append(attrs, "expected", p.expected, "percent", int(frac*100))
	}
	if eta >= 0 {
		attrs = append(attrs, "eta_s", int64(eta.Seconds()+0.5))
	}
	p.logger.Info("reading businesses", attrs...)
}

// bar renders the progress bar, width cells wide.
func (p *progress) bar(width int) string {
	rows, rate, frac, eta := p.status()
	var b strings.Builder
	if frac >= 0 {
		n := int(frac * float64(width))
		fmt.Fprintf(&b, "[%s%s] %3d%% ", strings.Repeat("=", n), strings.Repeat(" ", width-n), int(frac*100))
	}
	fmt.Fprintf(&b, "%s rows, %s rows/s", count(float64(rows)), count(rate))
	if eta >= 0 {
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// count formats n with a k or M suffix.
func count(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// Terminal is a terminal shared by log lines and a progress bar: it
// serialises writes, clears the bar before a log line and draws it again
// after, so the two never mix. Use it as the log handler's writer.
type Terminal struct {
	mu  sync.Mutex
	w   io.Writer
	bar string // on screen now; "" if none
}

// NewTerminal returns a Terminal writing to w, which should be a terminal
// (the bar is drawn with a carriage return and an ANSI erase-line).
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

const eraseLine = "\r\x1b[K"

// Write writes p (whole log lines) above the bar.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != "" {
		io.WriteString(t.w, eraseLine)
	}
	n, err := t.w.Write(p)
	if t.bar != "" {
		io.WriteString(t.w, t.bar)
	}
	return n, err
}

// SetBar draws s as the bar, replacing the one shown.
func (t *Terminal) SetBar(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, eraseLine+s)
	t.bar = s
}

// EndBar leaves the bar as it is on screen and moves below it.
func (t *Terminal) EndBar() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != "" {
		io.WriteString(t.w, "\n")
		t.bar = ""
	}
}
