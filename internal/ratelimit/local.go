package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Local is the per-process limiter: the same sliding-window log as the
// Redis one, kept in memory. It is exact within the process; across N
// processes a client may get up to N times the limit, which is why it is
// only the fallback when Redis is configured. It is safe for concurrent use.
type Local struct {
	shards [32]localShard
	seed   maphash.Seed
	start  time.Time
	now    func() time.Duration // since start; replaceable in tests
}

type localShard struct {
	mu    sync.Mutex
	logs  map[string]*clientLog
	calls int
}

// clientLog is a ring of the last admission times (ns since start). The
// ring grows with the admissions, up to limit, rather than being allocated
// at the limit: a limit may be large, and most clients make few requests.
type clientLog struct {
	times  []int64
	head   int // oldest
	n      int
	limit  int
	window int64
}

// grow doubles the ring, keeping its entries in order from index 0.
func (c *clientLog) grow() {
	times := make([]int64, min(c.limit, max(4, 2*len(c.times))))
	for i := range c.n {
		times[i] = c.times[(c.head+i)%len(c.times)]
	}
	c.times, c.head = times, 0
}

var _ Limiter = (*Local)(nil)

// NewLocal returns an empty per-process limiter.
func NewLocal() *Local {
	l := &Local{seed: maphash.MakeSeed(), start: time.Now()}
	l.now = func() time.Duration { return time.Since(l.start) }
	for i := range l.shards {
		l.shards[i].logs = map[string]*clientLog{}
	}
	return l
}

// sweepEvery is how many calls of a shard pass between sweeps of its idle
// logs (those whose newest admission left the window).
const sweepEvery = 4096

// Allow implements Limiter.
func (l *Local) Allow(_ context.Context, key string, limit int, window time.Duration) (bool, int, time.Duration, error) {
	now := int64(l.now())
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.calls++; sh.calls%sweepEvery == 0 {
		for k, c := range sh.logs {
			if c.n == 0 || c.times[(c.head+c.n-1)%len(c.times)] <= now-c.window {
				delete(sh.logs, k)
			}
		}
	}
	c := sh.logs[key]
	if c == nil || c.limit != limit || c.window != int64(window) {
		c = &clientLog{limit: limit, window: int64(window)}
		sh.logs[key] = c
	}
	for c.n > 0 && c.times[c.head] <= now-c.window {
		c.head = (c.head + 1) % len(c.times)
		c.n--
	}
	if c.n == limit {
		return false, 0, time.Duration(c.times[c.head] + c.window - now), nil
	}
	if c.n == len(c.times) {
		c.grow()
	}
	c.times[(c.head+c.n)%len(c.times)] = now
	c.n++
	if c.n < limit {
		return true, limit - c.n, 0, nil
	}
	return true, 0, time.Duration(c.times[c.head] + c.window - now), nil
}
