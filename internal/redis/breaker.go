package redis

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// breaker is a circuit breaker with two states. Closed: calls go to Redis
// and consecutive failures are counted. Open: calls fail at once, and one
// probe goroutine pings Redis every interval until it answers, which closes
// the circuit. Requests never wait for a probe.
type breaker struct {
	threshold int32
	interval  time.Duration
	ping      func(context.Context) error
	logger    *slog.Logger
	ctx       context.Context // ends the probe

	failures atomic.Int32
	open     atomic.Bool
	probes   sync.WaitGroup
}

func newBreaker(threshold int, interval time.Duration, ping func(context.Context) error, logger *slog.Logger, ctx context.Context) *breaker {
	return &breaker{threshold: int32(threshold), interval: interval, ping: ping, logger: logger, ctx: ctx}
}

func (b *breaker) isOpen() bool { return b.open.Load() }

func (b *breaker) success() {
	if b.failures.Load() != 0 { // read first: no write to a shared line on the hot path
		b.failures.Store(0)
	}
}

func (b *breaker) failure(err error) {
	if b.failures.Add(1) >= b.threshold {
		b.trip(err)
	}
}

// trip opens the circuit, once, and starts the probe.
func (b *breaker) trip(err error) {
	if !b.open.CompareAndSwap(false, true) {
		return
	}
	switch {
	case refused(err):
		// PING itself refused (at start): the probe cannot pass until the
		// ACL is fixed.
		b.logger.Error("redis ACL refuses PING to our user, so the circuit stays open: grant it what nearby runs, "+
			"ACL SETUSER <user> ~<prefix>:* "+aclCommands+"; running degraded (searches from memory, details from the database, per-process rate limits)",
			"err", err, "probe_interval", b.interval.String())
	case goredis.IsAuthError(err):
		// Not an outage that ends by itself: say what to fix, once.
		b.logger.Error("redis refuses our credentials: check the user and password in the Redis URL and the server's requirepass or ACL; circuit open, running degraded (searches from memory, details from the database, per-process rate limits)",
			"err", err, "probe_interval", b.interval.String())
	default:
		b.logger.Warn("redis unavailable: circuit open, running degraded (searches from memory, details from the database, per-process rate limits)",
			"err", err, "probe_interval", b.interval.String())
	}
	b.probes.Go(b.probe)
}

func (b *breaker) probe() {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	down := time.Now()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		if err := b.ping(b.ctx); err != nil {
			continue
		}
		b.failures.Store(0)
		b.open.Store(false)
		b.logger.Info("redis available again: circuit closed, normal operation resumed",
			"down_for", time.Since(down).Round(time.Millisecond).String())
		return
	}
}

// wait waits for the probe to end (after its context is cancelled).
func (b *breaker) wait() { b.probes.Wait() }
