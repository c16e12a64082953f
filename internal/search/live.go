package search

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// Feed is a change feed: Changes returns up to limit changes after the
// position (after, afterID) in (UpdatedAt, ID) order, each business at
// most once, in its current state, deletions included; FeedHead the newest
// stamp there is (postgres.BusinessService).
type Feed interface {
	Changes(ctx context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error)
	FeedHead(ctx context.Context) (time.Time, error)
}

// Follower keeps an engine's index current between seeds by following a
// change feed. Every Poll reads, page by page, the changes stamped since
// the feed's head as read before the last Poll (or, when that Poll stopped
// early, the newest stamp it dealt with), less Slack, and applies those
// with a version newer than the one it holds and a state the seeds do not
// already show: a change is applied once, whatever the overlap of reads,
// reconnects and seed loads, and rows the seeds were built with stay out
// of the delta. A change commits at most Slack after its stamp, so one not
// yet visible as a Poll starts is stamped after the head then less Slack,
// and the next Poll reads it, even when the Poll's later pages went more
// than Slack past it.
//
// Seeds come in through Install, which the Watcher calls instead of
// swapping the index itself. A seed holds every change stamped before its
// watermark less Slack, so Install forgets those and keeps the rest as the
// new index's deltas; after a restart, or seeds older than some installed
// before (a rollback), following resumes from the seeds' watermark less
// Slack. Each change is filed under the region the manifest's partition
// puts it in, as the next build will.
//
// Memory is bounded by MaxChanges: when the changes held since the seeds
// reach it, following pauses (nearby_live_paused is 1, and searches show
// the state as of the pause) until a newer seed absorbs them; nothing is
// lost, as the position stays where applying stopped. A Poll reads the feed
// no further than the delta has room for, so a backlog (a restart from old
// seeds, a bulk import) is not held in memory either.
type Follower struct {
	Engine     *Engine
	Feed       Feed
	Slack      time.Duration
	MaxChanges int
	PageSize   int // changes read per feed call
	Logger     *slog.Logger

	mu      sync.Mutex
	ix      *Index                  // the seeds' index, without deltas
	changes map[int64]nearby.Change // latest state of each business changed since the seeds
	newest  time.Time               // newest stamp read, or the seeds' watermark
	from    time.Time               // the next Poll reads from here, less Slack
	dropped time.Time               // the newest watermark of seeds installed: changes before it less Slack were forgotten
	areas   seeds.Partition
	paused  bool
	failing bool
	tag     string // random, names this follower's batches in index states
	seq     uint64 // batches published

	// Per region of areas: the live businesses filed under it (for the
	// regions this node holds) and the bounds of their places.
	local      []int // position in ix.Regions, or -1
	live       []map[int64]nearby.Business
	liveBounds []*geo.Rect
	hidden     [][]uint64 // per local region of ix, the seed entries changed

	metrics followerMetrics
}

type followerMetrics struct {
	changes prometheus.Gauge
	applied prometheus.Counter
	errors  prometheus.Counter
	newest  prometheus.Gauge
	paused  prometheus.Gauge
}

// NewFollower returns a follower of feed for e with its metrics registered
// on reg.
func NewFollower(e *Engine, feed Feed, slack time.Duration, maxChanges int, logger *slog.Logger, reg prometheus.Registerer) *Follower {
	f := &Follower{
		Engine: e, Feed: feed, Slack: slack, MaxChanges: maxChanges, PageSize: 5000, Logger: logger,
		changes: map[int64]nearby.Change{}, tag: strconv.FormatUint(rand.Uint64(), 36),
		metrics: followerMetrics{
			changes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nearby_live_changes",
				Help: "Businesses changed since the loaded seeds, held in the live delta."}),
			applied: prometheus.NewCounter(prometheus.CounterOpts{Name: "nearby_live_applied_total",
				Help: "Changes applied from the change feed."}),
			errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "nearby_live_errors_total",
				Help: "Failed reads of the change feed (retried at the next poll)."}),
			newest: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nearby_live_newest_change_timestamp_seconds",
				Help: "Stamp of the newest change read from the feed (or the seeds' watermark), Unix seconds."}),
			paused: prometheus.NewGauge(prometheus.GaugeOpts{Name: "nearby_live_paused",
				Help: "1 while following is paused because the delta reached its limit until a new seed absorbs it."}),
		},
	}
	m := f.metrics
	reg.MustRegister(m.changes, m.applied, m.errors, m.newest, m.paused)
	return f
}

// Install makes ix, loaded from the seeds m names, the engine's index,
// with the live changes the seeds do not hold applied to it.
func (f *Follower) Install(ix *Index, m seeds.Manifest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var watermark time.Time
	for i, r := range m.Regions {
		if i == 0 || r.Watermark.Before(watermark) {
			watermark = r.Watermark
		}
	}
	f.areas = m.Partition
	if len(f.areas) == 0 && len(m.Regions) == 1 {
		f.areas = seeds.Partition{{Name: m.Regions[0].Name, MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}}
	}
	f.ix = ix
	for _, r := range ix.Regions {
		r.ids() // sort the id lookup now, not on the first change
	}
	switch {
	case watermark.IsZero() || len(f.areas) == 0:
		f.Logger.Error("live changes are not followed: the seeds have no watermark or partition; build them from the database with this version's indexer",
			"watermark", watermark, "partition", len(m.Partition))
		f.ix = nil // nothing to apply to: Poll does nothing
		f.Engine.Swap(ix)
		return
	case f.newest.Before(watermark):
		f.newest = watermark
	}
	if f.from.Before(watermark) {
		f.from = watermark
	}
	if watermark.Before(f.dropped) {
		// Older seeds than some installed before (a rollback, or a build
		// from a replica further behind): they lack changes that the
		// newer seeds held and Install forgot, which only the feed has
		// now. Read it again from these seeds' watermark; versions keep
		// what is held from being applied twice.
		f.from = watermark
	}
	f.dropped = maxTime(f.dropped, watermark)
	horizon := watermark.Add(-f.Slack)
	for id, c := range f.changes {
		if c.UpdatedAt.Before(horizon) {
			delete(f.changes, id)
		}
	}
	f.paused = len(f.changes) >= f.MaxChanges
	f.local = make([]int, len(f.areas))
	f.live = make([]map[int64]nearby.Business, len(f.areas))
	for i, a := range f.areas {
		f.local[i] = slices.IndexFunc(ix.Regions, func(r *Region) bool { return r.Name == a.Name })
		f.live[i] = map[int64]nearby.Business{}
	}
	f.liveBounds = make([]*geo.Rect, len(f.areas))
	f.hidden = make([][]uint64, len(ix.Regions))
	for i, r := range ix.Regions {
		f.hidden[i] = make([]uint64, (r.Tree.Len()+63)/64)
	}
	for _, c := range f.changes {
		f.file(nil, c)
	}
	f.publish()
}

// Poll reads the feed's head, then the feed from where the last Poll left
// it (see Follower), less Slack, and applies what is new. It returns the
// number of changes applied.
func (f *Follower) Poll(ctx context.Context) (int, error) {
	f.mu.Lock()
	if f.ix == nil || f.paused {
		f.mu.Unlock()
		return 0, nil
	}
	ix, after, afterID := f.ix, f.from.Add(-f.Slack), int64(0)
	room := f.MaxChanges - len(f.changes)
	f.mu.Unlock()

	fail := func(err error) (int, error) {
		if errors.Is(ctx.Err(), context.Canceled) {
			return 0, err // following stopped (shutdown): not the feed's failure
		}
		f.metrics.errors.Inc()
		f.mu.Lock()
		if !f.failing {
			f.Logger.Error("change feed unreachable; retrying, searches show the last state read", "err", err)
		}
		f.failing = true
		f.mu.Unlock()
		return 0, err
	}
	head, err := f.Feed.FeedHead(ctx)
	if err != nil {
		return fail(err)
	}
	var read []nearby.Change
	fresh := 0       // changes read of businesses the delta does not hold
	complete := true // read to the feed's end, and every change dealt with
	for {
		page, err := f.Feed.Changes(ctx, after, afterID, f.PageSize)
		if err != nil {
			return fail(err)
		}
		read = append(read, page...)
		if len(page) < f.PageSize {
			break
		}
		// Applying pauses at the first new business the delta has no
		// room for: reading past it would only hold a backlog (a restart
		// from old seeds, a bulk import) in memory, beyond MaxChanges.
		// The position stays before what is not applied.
		f.mu.Lock()
		for _, c := range page {
			if _, had := f.changes[c.ID]; !had && !held(ix, c) {
				fresh++
			}
		}
		f.mu.Unlock()
		if fresh > room {
			complete = false
			break
		}
		last := page[len(page)-1]
		after, afterID = last.UpdatedAt, last.ID
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		f.Logger.Info("change feed reachable again; catching up", "changes", len(read))
		f.failing = false
	}
	if f.ix != ix {
		// A seed came in while reading: what was read may be older than
		// the seed's state, which no later read returns. The next Poll
		// reads from the seed's watermark; what the seed lacks is there.
		return 0, nil
	}
	applied := 0
	var reached time.Time // the newest stamp of the changes dealt with
	for _, c := range read {
		prev, had := f.changes[c.ID]
		if had && prev.Version >= c.Version || !had && held(ix, c) {
			reached = maxTime(reached, c.UpdatedAt)
			continue
		}
		if !had && len(f.changes) >= f.MaxChanges {
			f.paused = true
			f.metrics.paused.Set(1) // publish sets it too, but only if something was applied
			f.Logger.Error("live delta is full; following paused until a new seed absorbs it (is the indexer running?)",
				"max_changes", f.MaxChanges, "newest", f.newest)
			complete = false
			break
		}
		f.changes[c.ID] = c
		if had {
			f.file(&prev, c)
		} else {
			f.file(nil, c)
		}
		f.newest = maxTime(f.newest, c.UpdatedAt)
		reached = maxTime(reached, c.UpdatedAt)
		applied++
	}
	// Every change stamped before the head, less Slack, was visible to
	// this pass: a complete pass moves on to the head (past the newest
	// stamp when the head is the database's clock), one that stopped
	// early no further than what it dealt with.
	if !complete && reached.Before(head) {
		head = reached
	}
	f.from = maxTime(f.from, head)
	if applied > 0 {
		f.metrics.applied.Add(float64(applied))
		f.publish()
	}
	return applied, nil
}

// held reports whether ix's seeds already show c: the business as c has
// it, or, for a deletion, not at all. Each Poll reads again the changes
// stamped within Slack of the newest, and after a bulk import, which
// stamps every row alike, those are all the import's rows, which the seeds
// built since hold; applying them would copy the seeds into the delta
// (and pause following at MaxChanges) for nothing. Coordinates are
// compared as the index keeps them, to 1e-7°.
func held(ix *Index, c nearby.Change) bool {
	for _, r := range ix.Regions {
		if j := r.find(c.ID); j >= 0 {
			b := c.Business
			b.Lat, b.Lon = quadtree.FromE7(quadtree.ToE7(b.Lat)), quadtree.FromE7(quadtree.ToE7(b.Lon))
			return !c.Deleted && r.business(j).Equal(b)
		}
	}
	return c.Deleted
}

// file applies c, which replaces prev (nil when the business had no change
// since the seeds), to the per-region state.
func (f *Follower) file(prev *nearby.Change, c nearby.Change) {
	for i, r := range f.ix.Regions {
		if j := r.find(c.ID); j >= 0 {
			f.hidden[i][j>>6] |= 1 << (j & 63)
		}
	}
	if prev != nil && !prev.Deleted {
		if a := f.areas.Of(prev.Lat, prev.Lon); a >= 0 {
			delete(f.live[a], c.ID)
		}
	}
	if c.Deleted {
		return
	}
	if c.ID <= 0 || !c.Category.Valid() || !geo.Valid(c.Lat, c.Lon) || len(c.Name) > quadtree.MaxNameLen ||
		!c.Price.Valid() || !c.Rating.Valid() {
		f.Logger.Error("change feed row cannot be searched; left out", "id", c.ID) // the database's constraints forbid it
		return
	}
	if a := f.areas.Of(c.Lat, c.Lon); a >= 0 {
		if f.local[a] >= 0 {
			f.live[a][c.ID] = c.Business
		}
		b := f.liveBounds[a]
		if b == nil {
			b = &geo.Rect{MinLat: c.Lat, MinLon: c.Lon, MaxLat: c.Lat, MaxLon: c.Lon}
		} else {
			b = &geo.Rect{MinLat: min(b.MinLat, c.Lat), MinLon: min(b.MinLon, c.Lon), MaxLat: max(b.MaxLat, c.Lat), MaxLon: max(b.MaxLon, c.Lon)}
		}
		f.liveBounds[a] = b
	}
}

// publish swaps in the seeds' index with the current deltas. Trees are
// rebuilt from the live maps: the cost grows with the delta, which the next
// seed empties.
func (f *Follower) publish() {
	ix := f.ix
	deltas := make([]*Delta, len(ix.Regions))
	for i := range ix.Regions {
		d := &Delta{hidden: slices.Clone(f.hidden[i])}
		d.nHidden = countBits(d.hidden)
		deltas[i] = d
	}
	for a, i := range f.local {
		if i < 0 || len(f.live[a]) == 0 {
			continue
		}
		r := ix.Regions[i]
		bs := make([]nearby.Business, 0, len(f.live[a]))
		for _, b := range f.live[a] {
			bs = append(bs, b)
		}
		live, err := BuildRegion(r.Name, r.Version, bs)
		if err != nil { // cannot happen: file checked every business
			f.Logger.Error("live delta not searchable", "region", r.Name, "err", err)
			continue
		}
		deltas[i].live = live
	}
	for i, d := range deltas {
		if d.nHidden == 0 && d.live == nil {
			deltas[i] = nil
		}
	}
	remote := slices.Clone(ix.Remote)
	for i := range remote {
		if a := slices.IndexFunc(f.areas, func(a seeds.Area) bool { return a.Name == remote[i].Name }); a >= 0 {
			remote[i].Live = f.liveBounds[a]
		}
	}
	f.seq++
	live := "" // the seeds alone: the same state on every node
	if len(f.changes) > 0 {
		live = f.tag + "." + strconv.FormatUint(f.seq, 10)
	}
	f.Engine.Swap(ix.withDeltas(deltas, remote, live))
	f.metrics.changes.Set(float64(len(f.changes)))
	f.metrics.newest.Set(float64(f.newest.UnixNano()) / 1e9)
	if f.paused {
		f.metrics.paused.Set(1)
	} else {
		f.metrics.paused.Set(0)
	}
}

// Run polls every interval until ctx is done.
func (f *Follower) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Poll(ctx)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
