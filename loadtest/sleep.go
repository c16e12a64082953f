package loadtest

import (
	"context"
	"runtime"
	"time"
)

// Open-loop timing must be precise to well under the latencies measured
// (a loopback search takes a few hundred µs), and Go's timers are not: on
// Linux they wake up to 1 ms late, because the runtime waits in epoll with
// millisecond timeouts. So the scheduler sleeps in the kernel (nanosleep,
// where there is one: some 40 µs late on a VM) until spin before the due
// time, in slices so that cancellation is noticed, then yields in a loop
// until the due time. The spin is at most maxSpin and a tenth of the
// interval between iterations, so it costs at most 10% of a core: at high
// rates timing is a little less precise rather than stealing the CPU the
// server under test needs.
const (
	maxSpin    = 150 * time.Microsecond
	sleepSlice = 50 * time.Millisecond
)

// spinFor returns the spin of a run with this interval between iterations.
func spinFor(interval time.Duration) time.Duration {
	return min(maxSpin, interval/10)
}

// dueAfter returns when iteration (or request) i of a schedule of rate a
// second falls due, i/rate s after the start, or limit if that is not
// before limit. It saturates rather than convert a time that does not fit
// a Duration (at a rate of 1e-12/s), which would wrap round to the past and
// make every later iteration due at once.
func dueAfter(i int64, rate float64, limit time.Duration) time.Duration {
	if d := float64(i) * float64(time.Second) / rate; d < float64(limit) {
		return time.Duration(d)
	}
	return limit
}

// sleepUntil returns at due (a few µs after, when spin covers how late the
// OS wakes up), or early when ctx is done.
func sleepUntil(ctx context.Context, due time.Time, spin time.Duration) error {
	for {
		d := time.Until(due)
		if d <= spin+osSleepMargin {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		osSleep(min(d-spin-osSleepMargin, sleepSlice))
	}
	for time.Now().Before(due) {
		runtime.Gosched()
	}
	return ctx.Err()
}
