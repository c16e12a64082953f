package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/nearby/nearby/internal/dataset"
)

// PaceConfig is a constant-rate run of plain GET requests, the lean
// counterpart of an open-loop Run: where Run plays a scenario (decoding
// answers to follow cursors, through net/http's client), Pace only sends
// requests on schedule and times them, from one thread with an epoll loop
// (Linux only), at some 25 µs of CPU a request on a 2-core VM, nearly all
// of it the kernel's loopback TCP, so that it leaves most of a small
// machine to the server under test and is itself late by little.
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
	Errors   int64         `json:"errors"`   // anything else, requests due but never sent included
	Elapsed  time.Duration `json:"elapsed_ns"`
	Rate     float64       `json:"rate"` // requests answered per second of the run (at least Duration, unless interrupted)
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
// due at start + i/Rate, and reports their latencies. Elsewhere than on
// Linux it returns an error wrapping errors.ErrUnsupported.
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
	// The paths are under the target's, as in Run; the port is http's
	// unless given.
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	reqs := make([][]byte, len(cfg.Paths))
	for i, p := range cfg.Paths {
		reqs[i] = fmt.Appendf(nil, "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nearby-pace\r\nAccept: application/json\r\n\r\n", u.EscapedPath(), p, u.Host)
	}
	timeout := cmp.Or(cfg.Timeout, DefaultTimeout)
	p := &pacer{
		addr: addr, reqs: reqs, conns: make([]*paceConn, cmp.Or(cfg.Conns, 64)),
		rate: cfg.Rate, duration: cfg.Duration, timeout: timeout,
		dialer: newDialer(timeout, cfg.AllowRemote),
		lat:    newHist(histDigits), lag: newHist(histDigits),
	}
	err = p.run(ctx)
	res := &PaceResult{Requests: p.ok, Errors: p.errors, Elapsed: p.elapsed, FirstError: p.firstErr}
	pct := func(h *hdrhistogram.Histogram, q float64) time.Duration { return time.Duration(valueAt(h, q)) }
	span := max(res.Elapsed, cfg.Duration)
	if ctx.Err() != nil && res.Elapsed > 0 {
		span = res.Elapsed // interrupted: the rate of the part that ran
	}
	res.Rate = float64(res.Requests) / span.Seconds()
	res.P50, res.P90, res.P99, res.P999 = pct(p.lat, 50), pct(p.lat, 90), pct(p.lat, 99), pct(p.lat, 99.9)
	res.Max = time.Duration(maxOf(p.lat))
	res.LagP99, res.LagMax = pct(p.lag, 99), time.Duration(maxOf(p.lag))
	return res, err
}

// pacer is one Pace run: its schedule, connections and what it measured.
type pacer struct {
	addr     string
	reqs     [][]byte
	rate     float64
	duration time.Duration
	timeout  time.Duration
	dialer   *net.Dialer
	conns    []*paceConn // nil where no connection is open
	busy     int         // connections with a request in flight

	lat, lag *hdrhistogram.Histogram
	ok       int64
	errors   int64
	firstErr string
	elapsed  time.Duration
}

// paceConn is one keep-alive connection and the request it is waiting on.
type paceConn struct {
	fd   int
	busy bool
	due  time.Duration // when the request in flight was due, since the start
	sent time.Duration
	buf  []byte // what has arrived of the answer
}

func (p *pacer) fail(err error) {
	p.errors++
	if p.firstErr == "" {
		p.firstErr = err.Error()
	}
}
