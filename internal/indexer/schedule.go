package indexer

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Leader elects the one indexer, among those sharing a seed directory, that
// builds and publishes. internal/postgres implements it with a session
// advisory lock.
type Leader interface {
	// Lead reports whether this process leads: it keeps leadership it
	// holds (after checking it still does) or tries to take it. false
	// means another process leads.
	Lead(ctx context.Context) (bool, error)
	// Release gives leadership up, if held.
	Release(ctx context.Context) error
}

// ErrNotLeader says a build stopped before publishing because this process
// no longer leads.
var ErrNotLeader = errors.New("another indexer leads now")

// Scheduler runs a build every Every while it leads. A failed build is
// logged and counted, the previous manifest stays in force (see Build),
// and the build is retried after Retry. An indexer that does not lead
// stands by, asking again every Retry, and takes over when the leader
// stops or loses its lock.
type Scheduler struct {
	Every  time.Duration // between successful builds
	Retry  time.Duration // after a failure, and between a standby's tries; ≤ 0: min(Every, time.Minute)
	Leader Leader
	// Build runs one build. The Scheduler passes the context of the
	// attempt; the build should call StillLeads before it publishes
	// (Config.BeforePublish).
	Build   func(ctx context.Context) error
	Logger  *slog.Logger
	Metrics *Metrics // nil records nothing
}

// StillLeads returns ErrNotLeader unless s's Leader still leads: the check
// to make just before publishing.
func (s *Scheduler) StillLeads(ctx context.Context) error {
	ok, err := s.Leader.Lead(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotLeader
	}
	return nil
}

// Run builds at once if it leads, then on schedule, until ctx ends; then it
// releases leadership and returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	retry := s.Retry
	if retry <= 0 {
		retry = min(s.Every, time.Minute)
	}
	state := unknown
	defer func() {
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.Leader.Release(release); err != nil {
			s.Logger.Warn("releasing the lock", "err", err)
		}
		s.setLeader(false)
	}()
	for {
		wait := s.attempt(ctx, &state, retry)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// attempt runs one scheduled attempt and returns how long to wait for the
// next.
func (s *Scheduler) attempt(ctx context.Context, leading *leadState, retry time.Duration) time.Duration {
	ok, err := s.Leader.Lead(ctx)
	if ctx.Err() != nil {
		return 0
	}
	if err != nil {
		s.count("error")
		s.Logger.Error("cannot reach the lock database; will retry", "err", err, "retry_in", retry.String())
		s.changeLeading(leading, false)
		return retry
	}
	s.changeLeading(leading, ok)
	if !ok {
		s.count("standby")
		return retry
	}
	if err := s.Build(ctx); err != nil {
		if ctx.Err() != nil {
			return 0
		}
		if errors.Is(err, ErrNotLeader) {
			// Another indexer took the lock mid-build: say so now, not
			// at the next attempt, while the new leader says it leads.
			s.changeLeading(leading, false)
		}
		s.count("error")
		s.Logger.Error("build failed; the last published seeds stay in force", "err", err, "retry_in", retry.String())
		return retry
	}
	s.count("ok")
	return s.Every
}

// leadState is whether this process leads, as last logged.
type leadState int8

const (
	unknown leadState = iota
	standing
	leading
)

// changeLeading logs changes of leadership, not every attempt.
func (s *Scheduler) changeLeading(state *leadState, lead bool) {
	now := standing
	if lead {
		now = leading
	}
	if *state != now {
		if lead {
			s.Logger.Info("leading: this indexer holds the lock and publishes")
		} else {
			s.Logger.Info("standing by: another indexer holds the lock, or the lock database is unreachable")
		}
	}
	*state = now
	s.setLeader(lead)
}

func (s *Scheduler) setLeader(on bool) {
	if s.Metrics != nil {
		v := 0.0
		if on {
			v = 1
		}
		s.Metrics.leader.Set(v)
	}
}

func (s *Scheduler) count(result string) {
	if s.Metrics != nil {
		s.Metrics.builds.WithLabelValues(result).Inc()
	}
}
