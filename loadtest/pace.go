package loadtest

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/nearby/nearby/internal/dataset"
)

// PaceConfig is a constant-rate run of plain GET requests, the lean
// counterpart of an open-loop Run: where Run plays a scenario (decoding
// answers to follow cursors, through net/http's client), Pace only sends
// requests on schedule and times them, at some 50 µs of CPU a request
// (most of it the kernel's loopback TCP), a third of what Run spends, so
// that it leaves most of a small machine to the server under test.
type PaceConfig struct {
	Target   string   // base URL (http, loopback unless AllowRemote)
	Paths    []string // request paths with query strings, sent in turn
	Rate     float64  // requests per second
	Duration time.Duration
	// Conns is the number of keep-alive connections (0 means 64). A request
	// due while every connection is busy waits for one, and that wait is
	// part of its latency.
	Conns       int
	Timeout     time.Duration // per request; 0 means 10s
	AllowRemote bool
}

// PaceResult is what a Pace run measured. Latencies count from when each
// request was due, not from when it was sent, so a stall of the server is
// charged to every request it delayed (no coordinated omission).
type PaceResult struct {
	Requests int64         `json:"requests"` // answered with 200 and a whole body
	Errors   int64         `json:"errors"`   // anything else
	Elapsed  time.Duration `json:"elapsed_ns"`
	Rate     float64       `json:"rate"` // requests answered per second of the run (at least Duration)
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	P999     time.Duration `json:"p999_ns"`
	Max      time.Duration `json:"max_ns"`
	// LagP99 and LagMax are how late requests were sent after they were
	// due (the pacer's precision plus waits for a free connection).
	LagP99 time.Duration `json:"lag_p99_ns"`
	LagMax time.Duration `json:"lag_max_ns"`
	// FirstError is one error's text, when there were errors.
	FirstError string `json:"first_error,omitempty"`
}

// SearchPaths returns n nearby searches, k=20 within 2 km, at the points
// of the realistic query workload drawn with seed: the requests of
// searchd's throughput benchmark and of `loadtest pace`.
func SearchPaths(n int, seed uint64) []string {
	qs := dataset.Queries(n, seed)
	paths := make([]string, len(qs))
	for i, q := range qs {
		paths[i] = fmt.Sprintf("/v1/search/nearby?lat=%v&lon=%v&radius=2000&limit=20", q.Lat, q.Lon)
	}
	return paths
}

// Pace sends cfg.Rate GET requests a second for cfg.Duration, request i
// due at start + i/Rate, and reports their latencies.
func Pace(ctx context.Context, cfg PaceConfig) (*PaceResult, error) {
	switch {
	case cfg.Rate <= 0 || cfg.Rate > 1e6:
		return nil, fmt.Errorf("rate %g per second: give one in (0, 1e6]", cfg.Rate)
	case cfg.Duration <= 0:
		return nil, errors.New("duration must be positive: every run is bounded in time")
	case len(cfg.Paths) == 0:
		return nil, errors.New("no request paths")
	case cfg.Conns < 0 || cfg.Timeout < 0:
		return nil, errors.New("connections and timeout must not be negative")
	}
	u, err := CheckTarget(cfg.Target, cfg.AllowRemote)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, errors.New("pace speaks plain HTTP/1.1 only")
	}
	reqs := make([][]byte, len(cfg.Paths))
	for i, p := range cfg.Paths {
		reqs[i] = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nearby-pace\r\nAccept: application/json\r\n\r\n", p, u.Host)
	}
	conns := cmp.Or(cfg.Conns, 64)
	timeout := cmp.Or(cfg.Timeout, DefaultTimeout)

	// The pacer hands out request numbers on schedule; a connection that
	// is free takes the next one. The queue holds a second of requests, so
	// that the pacer keeps its schedule through a stall of the server.
	queue := make(chan int64, min(int(cfg.Rate)+1, 1<<20))
	start := time.Now()
	interval := float64(time.Second) / cfg.Rate
	due := func(i int64) time.Time { return start.Add(time.Duration(float64(i) * interval)) }
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration+2*timeout)
	defer cancel()

	dialer := newDialer(timeout, cfg.AllowRemote)
	workers := make([]*paceWorker, conns)
	var wg sync.WaitGroup
	for w := range workers {
		pw := &paceWorker{addr: u.Host, timeout: timeout, dialer: dialer,
			lat: newHist(histDigits), lag: newHist(histDigits)}
		workers[w] = pw
		wg.Go(func() {
			defer pw.close()
			for i := range queue {
				if err := runCtx.Err(); err != nil {
					pw.fail(fmt.Errorf("not sent: %w", err)) // drain: the run is over
					continue
				}
				pw.do(reqs[i%int64(len(reqs))], due(i))
			}
		})
	}
	spin := spinFor(time.Duration(interval))
	end := start.Add(cfg.Duration)
	for i := int64(0); ; i++ {
		d := due(i)
		if !d.Before(end) || sleepUntil(runCtx, d, spin) != nil {
			break
		}
		queue <- i
	}
	close(queue)
	wg.Wait()

	res := &PaceResult{Elapsed: time.Since(start)}
	lat, lag := newHist(histDigits), newHist(histDigits)
	for _, w := range workers {
		lat.Merge(w.lat)
		lag.Merge(w.lag)
		res.Requests += w.ok
		res.Errors += w.errors
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
	}
	pct := func(h *hdrhistogram.Histogram, p float64) time.Duration { return time.Duration(h.ValueAtPercentile(p)) }
	res.Rate = float64(res.Requests) / max(res.Elapsed, cfg.Duration).Seconds()
	res.P50, res.P90, res.P99, res.P999 = pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 99.9)
	res.Max = time.Duration(lat.Max())
	res.LagP99, res.LagMax = pct(lag, 99), time.Duration(lag.Max())
	return res, ctx.Err()
}

// paceWorker is one keep-alive connection and what it measured.
type paceWorker struct {
	addr     string
	timeout  time.Duration
	dialer   *net.Dialer
	conn     net.Conn
	br       *bufio.Reader
	lat, lag *hdrhistogram.Histogram
	ok       int64
	errors   int64
	firstErr string
}

// do sends one request due at due and reads its answer.
func (w *paceWorker) do(req []byte, due time.Time) {
	sent := time.Now()
	w.lag.RecordValue(clampHist(sent.Sub(due)))
	if err := w.roundTrip(req, sent); err != nil {
		w.fail(err)
		w.close()
		return
	}
	w.ok++
	w.lat.RecordValue(clampHist(time.Since(due)))
}

func (w *paceWorker) roundTrip(req []byte, sent time.Time) error {
	if w.conn == nil {
		c, err := w.dialer.Dial("tcp", w.addr)
		if err != nil {
			return err
		}
		w.conn, w.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	if err := w.conn.SetDeadline(sent.Add(w.timeout)); err != nil {
		return err
	}
	if _, err := w.conn.Write(req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case resp.Close:
		w.close() // the server ends the connection: dial again next time
	}
	return nil
}

func (w *paceWorker) fail(err error) {
	w.errors++
	if w.firstErr == "" {
		w.firstErr = err.Error()
	}
}

func (w *paceWorker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}
