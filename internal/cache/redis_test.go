package cache_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/cache"
	"github.com/nearby/nearby/internal/redis"
	"github.com/nearby/nearby/internal/redis/redistest"
)

// TestSetNewerConcurrentRedis: writers race to store versions 1..n of one
// key in shuffled order while readers watch it, on a real Redis. No reader
// ever sees the version go back, and the last write standing is n.
func TestSetNewerConcurrentRedis(t *testing.T) {
	c, prefix := openRedis(t)
	ctx := context.Background()
	key := cache.DetailKey(prefix, 1)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	const n, writers = 400, 8
	versions := r.Perm(n)
	var wg sync.WaitGroup
	done := make(chan struct{})
	var mu sync.Mutex
	storedMax := 0
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				v := versions[i] + 1
				stored, err := c.SetNewer(ctx, key, []byte(strconv.Itoa(v)+`:{"v":`+strconv.Itoa(v)+`}`), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if stored {
					mu.Lock()
					storedMax = max(storedMax, v)
					mu.Unlock()
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				val, ok, err := c.Get(ctx, key)
				if err != nil || !ok {
					continue
				}
				s := string(val)
				ver, _, _ := strings.Cut(s, ":")
				got, err := strconv.Atoi(ver)
				if err != nil || s != ver+`:{"v":`+ver+`}` {
					t.Errorf("torn value %q", s)
					return
				}
				if got < last {
					t.Errorf("version went back from %d to %d", last, got)
					return
				}
				last = got
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	val, ok, err := c.Get(ctx, key)
	if err != nil || !ok || string(val) != strconv.Itoa(n)+`:{"v":`+strconv.Itoa(n)+`}` || storedMax != n {
		t.Fatalf("final value %q %v %v (largest stored %d), want version %d", val, ok, err, storedMax, n)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// laggingSource is a read replica that lags: it answers any version of the
// business from the oldest it still has to the newest committed.
type laggingSource struct {
	mu     sync.Mutex
	oldest int64
	newest int64
	r      *rand.Rand
}

func (s *laggingSource) Detail(_ context.Context, id int64) (*nearby.BusinessRecord, error) {
	s.mu.Lock()
	v := s.oldest + s.r.Int64N(s.newest-s.oldest+1)
	s.mu.Unlock()
	return &nearby.BusinessRecord{ID: id, Name: "v" + strconv.FormatInt(v, 10), Category: nearby.Cafe, Photos: []string{}, Version: v}, nil
}

// patcher is the primary: each patch commits the next version.
type patcher struct {
	nearby.OwnerService
	src *laggingSource
}

func (p *patcher) Patch(_ context.Context, _, id, _ int64, _ nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	p.src.mu.Lock()
	p.src.newest++
	v := p.src.newest
	p.src.mu.Unlock()
	return &nearby.BusinessRecord{ID: id, Name: "v" + strconv.FormatInt(v, 10), Category: nearby.Cafe, Photos: []string{}, Version: v}, nil
}

// TestReadYourWriteThroughRedis: readers fill the detail cache from a
// lagging replica while an owner patches, on a real Redis. Once a patch's
// cache write has returned, no read returns an older version, whatever
// the replica answers and however fills and writes interleave.
func TestReadYourWriteThroughRedis(t *testing.T) {
	c, prefix := openRedis(t)
	ctx := context.Background()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	src := &laggingSource{oldest: 1, newest: 1, r: rand.New(rand.NewPCG(seed, 1))}
	reg := prometheus.NewRegistry()
	d := cache.NewDetails(cache.DetailsConfig{Store: c, Source: src, Prefix: prefix, TTL: time.Minute,
		Logger: discardLogger(), Registerer: reg})
	inv := cache.NewInvalidator(&patcher{src: src}, cache.InvalidatorConfig{Store: c, Prefix: prefix, TTL: time.Minute,
		Logger: discardLogger(), Registerer: reg})
	var written atomic.Int64 // the newest version whose cache write returned
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 6 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				floor := written.Load()
				rec, err := d.Detail(ctx, 42)
				if err != nil {
					t.Error(err)
					return
				}
				if rec.Version < floor {
					t.Errorf("read version %d after version %d was written", rec.Version, floor)
					return
				}
			}
		})
	}
	for range 200 {
		rec, err := inv.Patch(ctx, 7, 42, 0, nearby.BusinessInput{})
		if err != nil {
			t.Fatal(err)
		}
		written.Store(rec.Version)
		if rand.IntN(8) == 0 { // the replica catches up, sometimes
			src.mu.Lock()
			src.oldest = src.newest
			src.mu.Unlock()
		}
	}
	close(done)
	readers.Wait()
}

// openRedis opens a client of the test Redis with a generous timeout (these
// tests are about what Redis holds, not about its speed), and returns it
// with a key prefix of the test's own.
func openRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := redistest.URL(t)
	c, err := redis.Open(context.Background(), redis.Config{URL: url, Timeout: 2 * time.Second}, discardLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, redistest.Prefix(t, url)
}
