package indexer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeLeader is a Leader over an in-process lock shared by its instances.
type fakeLeader struct {
	shared *fakeLock
	down   *atomic.Bool // the lock database is unreachable
}

type fakeLock struct {
	mu     sync.Mutex
	holder *fakeLeader
}

func (l *fakeLeader) Lead(context.Context) (bool, error) {
	if l.down != nil && l.down.Load() {
		return false, errors.New("lock database unreachable")
	}
	l.shared.mu.Lock()
	defer l.shared.mu.Unlock()
	if l.shared.holder == nil {
		l.shared.holder = l
	}
	return l.shared.holder == l, nil
}

func (l *fakeLeader) Release(context.Context) error {
	l.shared.mu.Lock()
	defer l.shared.mu.Unlock()
	if l.shared.holder == l {
		l.shared.holder = nil
	}
	return nil
}

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// TestSchedulerOneLeaderPublishes runs two schedulers on one lock: only the
// leader builds, the other stands by, and takes over once the leader stops.
func TestSchedulerOneLeaderPublishes(t *testing.T) {
	lock := &fakeLock{}
	var builds [2]atomic.Int64
	var concurrent, maxConcurrent atomic.Int64
	newScheduler := func(i int) *Scheduler {
		s := &Scheduler{Every: 5 * time.Millisecond, Leader: &fakeLeader{shared: lock}, Logger: discard(),
			Metrics: NewMetrics(prometheus.NewRegistry())}
		s.Build = func(ctx context.Context) error {
			n := concurrent.Add(1)
			defer concurrent.Add(-1)
			if n > maxConcurrent.Load() {
				maxConcurrent.Store(n)
			}
			time.Sleep(time.Millisecond)
			if err := s.StillLeads(ctx); err != nil {
				return err
			}
			builds[i].Add(1)
			return nil
		}
		return s
	}
	a, b := newScheduler(0), newScheduler(1)
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	doneA, doneB := make(chan error), make(chan error)
	go func() { doneA <- a.Run(ctxA) }()
	time.Sleep(20 * time.Millisecond) // a leads first
	go func() { doneB <- b.Run(ctxB) }()
	time.Sleep(100 * time.Millisecond)
	if builds[0].Load() < 3 || builds[1].Load() != 0 {
		t.Fatalf("while a leads: a built %d times, b %d", builds[0].Load(), builds[1].Load())
	}
	if got := testutil.ToFloat64(b.Metrics.builds.WithLabelValues("standby")); got < 3 {
		t.Errorf("b stood by %v times", got)
	}
	if testutil.ToFloat64(a.Metrics.leader) != 1 || testutil.ToFloat64(b.Metrics.leader) != 0 {
		t.Error("leader gauges")
	}
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	stopB()
	if err := <-doneB; err != nil {
		t.Fatal(err)
	}
	if builds[1].Load() < 3 {
		t.Errorf("b did not take over: %d builds", builds[1].Load())
	}
	if maxConcurrent.Load() != 1 {
		t.Errorf("%d builds ran at once", maxConcurrent.Load())
	}
	if lock.holder != nil {
		t.Error("lock still held after both stopped")
	}
}

// TestSchedulerRetriesFailures counts failed builds and unreachable locks
// as errors and tries again after Retry, not Every.
func TestSchedulerRetriesFailures(t *testing.T) {
	var down atomic.Bool
	var attempts atomic.Int64
	s := &Scheduler{Every: time.Hour, Retry: 5 * time.Millisecond, Leader: &fakeLeader{shared: &fakeLock{}, down: &down},
		Logger: discard(), Metrics: NewMetrics(prometheus.NewRegistry())}
	s.Build = func(context.Context) error {
		if attempts.Add(1) < 3 {
			return errors.New("replica unreachable")
		}
		return nil
	}
	down.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(30 * time.Millisecond)
	lockErrors := testutil.ToFloat64(s.Metrics.builds.WithLabelValues("error"))
	if lockErrors < 2 || attempts.Load() != 0 {
		t.Fatalf("lock down: %v errors, %d builds", lockErrors, attempts.Load())
	}
	down.Store(false)
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	// Two failures, then a success, then nothing for an hour.
	if attempts.Load() != 3 || testutil.ToFloat64(s.Metrics.builds.WithLabelValues("ok")) != 1 ||
		testutil.ToFloat64(s.Metrics.builds.WithLabelValues("error")) < lockErrors+2 {
		t.Errorf("%d attempts; metrics ok %v error %v", attempts.Load(),
			testutil.ToFloat64(s.Metrics.builds.WithLabelValues("ok")), testutil.ToFloat64(s.Metrics.builds.WithLabelValues("error")))
	}
}

// TestSchedulerLeaderGaugeAfterLosingTheLock: a build that finds, before
// publishing, that another indexer took the lock leaves this process
// standing by, and nearby_indexer_leader must say so at once, not only at
// the next attempt (up to a minute later), while the new leader says 1 too.
func TestSchedulerLeaderGaugeAfterLosingTheLock(t *testing.T) {
	lock := &fakeLock{}
	a := &fakeLeader{shared: lock}
	thief := &fakeLeader{shared: lock}
	s := &Scheduler{Every: time.Hour, Retry: time.Hour, Leader: a, Logger: discard(), Metrics: NewMetrics(prometheus.NewRegistry())}
	built := make(chan struct{})
	s.Build = func(ctx context.Context) error {
		defer close(built)
		// The lock session drops mid-build and another indexer takes it.
		a.Release(ctx)
		thief.Lead(ctx)
		return s.StillLeads(ctx)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-built
	waitUntil := time.Now().Add(time.Second)
	for testutil.ToFloat64(s.Metrics.builds.WithLabelValues("error")) != 1 && time.Now().Before(waitUntil) {
		time.Sleep(time.Millisecond)
	}
	if got := testutil.ToFloat64(s.Metrics.leader); got != 0 {
		t.Errorf("nearby_indexer_leader = %v after the lock was lost, want 0", got)
	}
	cancel()
	<-done
}
