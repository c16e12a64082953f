package search

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/syncbuf"
)

// stallingFeed answers FeedHead, then holds Changes until its context
// ends, as a database call does when the service shuts down mid-Poll.
type stallingFeed struct {
	Feed
	reading chan struct{}
}

func (s *stallingFeed) Changes(ctx context.Context, _ time.Time, _ int64, _ int) ([]nearby.Change, error) {
	close(s.reading)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestFollowerStoppedIsNotFeedDown: a Poll called off because following
// stops (the node shuts down) is not a feed outage: no "change feed
// unreachable" error logged, none counted.
func TestFollowerStoppedIsNotFeedDown(t *testing.T) {
	const slack = time.Second
	db := newFakeDB()
	db.write(nearby.Change{Business: nearby.Business{ID: 1, Name: "one", Category: nearby.Cafe, Lat: 51.5, Lon: -0.1}}, 0)
	db.advance(2 * slack)
	regions, m := db.snapshot(t, testAreas, 1)
	var log syncbuf.Buffer
	feed := &stallingFeed{Feed: db, reading: make(chan struct{})}
	f := NewFollower(&Engine{}, feed, slack, 1<<20, slog.New(slog.NewTextHandler(&log, nil)), prometheus.NewRegistry())
	f.Install(NewIndex(regions...), m)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.Poll(ctx); errc <- err }()
	<-feed.reading
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Poll called off: %v, want context.Canceled", err)
	}
	if n := testutil.ToFloat64(f.metrics.errors); n != 0 || strings.Contains(log.String(), "unreachable") {
		t.Errorf("a Poll called off counted %v feed errors; log:\n%s", n, log.String())
	}
}
