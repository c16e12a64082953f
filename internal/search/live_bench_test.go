package search_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/httpapi"
	. "github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/seeds"
)

// sliceFeed serves a fixed list of changes in feed order.
type sliceFeed []nearby.Change

func (s sliceFeed) Changes(_ context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	for i, c := range s {
		if c.UpdatedAt.After(after) || c.UpdatedAt.Equal(after) && c.ID > afterID {
			return s[i:min(len(s), i+limit)], nil
		}
	}
	return nil, nil
}

func (s sliceFeed) FeedHead(context.Context) (time.Time, error) {
	if len(s) == 0 {
		return time.Time{}, nil
	}
	return s[len(s)-1].UpdatedAt, nil
}

// BenchmarkNearbyDelta times realistic searches (k=20) over 1M businesses
// without a delta and with a delta of 100k changes (40% moves, 30%
// creates, 20% renames, 10% deletes, spread like the data), alternating
// the two engines query by query so both see the same machine (and take
// turns at going first, as they share the seed's tree). It reports each
// one's mean latency and their ratio, for the engine alone and for the
// whole search handler (parsing, search, JSON; no network).
func BenchmarkNearbyDelta(b *testing.B) {
	const n, changes = 1_000_000, 100_000
	bs := dataset.Generate(n, 1)
	region, err := BuildRegion("world", 1, bs)
	if err != nil {
		b.Fatal(err)
	}
	base := &Engine{}
	base.Swap(NewIndex(region))

	seedTime := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 1))
	g := dataset.NewGenerator(2) // new places for moves and creates
	var feed sliceFeed
	for i := range changes {
		c := nearby.Change{Version: 2, UpdatedAt: seedTime.Add(time.Duration(i+1) * time.Millisecond)}
		p := g.Next()
		switch x := r.IntN(10); {
		case x < 4: // move
			c.Business = bs[r.IntN(n)]
			c.Lat, c.Lon = p.Lat, p.Lon
		case x < 7: // create
			c.Business = p
			c.ID = int64(n + i + 1)
			c.Version = 1
		case x < 9: // rename
			c.Business = bs[r.IntN(n)]
			c.Name += " (new)"
		default:
			c.Business = bs[r.IntN(n)]
			c.Deleted = true
		}
		feed = append(feed, c)
	}
	live := &Engine{}
	f := NewFollower(live, feed, time.Second, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	f.PageSize = changes
	m := seeds.Manifest{
		Regions:   []seeds.Region{{Name: "world", IndexVersion: 1, Count: n, Watermark: seedTime}},
		Partition: seeds.Partition{{Name: "world", MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}},
	}
	f.Install(NewIndex(region), m)
	start := time.Now()
	if _, err := f.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	applyMs := float64(time.Since(start).Microseconds()) / 1000
	st, _ := live.Stats()
	if st.Regions[0].Live < changes*8/10 {
		b.Fatalf("delta holds %d businesses, want about %d", st.Regions[0].Live, changes)
	}

	qs := dataset.Queries(4096, 3)
	ctx := context.Background()
	b.ResetTimer()
	engines := [2]*Engine{base, live}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var handlers [2]http.Handler
	for i, e := range engines {
		reg := prometheus.NewRegistry()
		handlers[i] = httpapi.NewServer(e, logger, reg, reg, nil)
	}
	reqs := make([]*http.Request, len(qs))
	for i, q := range qs {
		reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/search/nearby?lat=%v&lon=%v&radius=%v&limit=20", q.Lat, q.Lon, q.RadiusM), nil)
	}
	var took, tookHTTP [2]time.Duration
	b.ResetTimer()
	for i := range b.N {
		q := qs[i%len(qs)].SearchQuery()
		// Both share the seed's tree, so the second search of a query
		// finds it in cache: take turns at going first.
		for j := range 2 {
			e := (i + j) % 2
			t0 := time.Now()
			if _, err := engines[e].Nearby(ctx, q, nil); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			w := httptest.NewRecorder()
			handlers[e].ServeHTTP(w, reqs[i%len(reqs)])
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
			took[e] += t1.Sub(t0)
			tookHTTP[e] += time.Since(t1)
		}
	}
	perOp := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / 1000 }
	b.ReportMetric(perOp(took[0]), "no-delta-µs")
	b.ReportMetric(perOp(took[1]), "delta-µs")
	b.ReportMetric(float64(took[1])/float64(took[0]), "delta/no-delta-x")
	b.ReportMetric(perOp(tookHTTP[0]), "http-no-delta-µs")
	b.ReportMetric(perOp(tookHTTP[1]), "http-delta-µs")
	b.ReportMetric(float64(tookHTTP[1])/float64(tookHTTP[0]), "http-delta/no-delta-x")
	b.ReportMetric(float64(st.Regions[0].Live), "delta-size")
	b.ReportMetric(applyMs, "apply-100k-ms")
}
