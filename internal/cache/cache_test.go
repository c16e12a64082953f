package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clock is a settable time for Memory stores.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func memoryWithClock(maxBytes int) (*Memory, *clock) {
	m := NewMemory(maxBytes)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	m.now = c.now
	return m, c
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m, clk := memoryWithClock(0)
	m.Set(ctx, "a", []byte("1"), time.Second)
	if v, ok, _ := m.Get(ctx, "a"); !ok || string(v) != "1" {
		t.Fatalf("Get = %q %v", v, ok)
	}
	clk.add(time.Second)
	if _, ok, _ := m.Get(ctx, "a"); ok {
		t.Fatal("entry outlived its TTL")
	}
	for _, step := range []struct {
		val    string
		stored bool
	}{{"0:", true}, {"0:", false}, {"2:x", true}, {"1:y", false}, {"10:z", true}, {"9:w", false}} {
		if stored, err := m.SetNewer(ctx, "v", []byte(step.val), time.Minute); err != nil || stored != step.stored {
			t.Fatalf("SetNewer(%q) = %v %v, want %v", step.val, stored, err, step.stored)
		}
	}
	clk.add(time.Minute) // an expired entry does not block an older version
	if stored, _ := m.SetNewer(ctx, "v", []byte("1:y"), time.Minute); !stored {
		t.Error("an expired newer entry blocked SetNewer")
	}
	if _, err := m.SetNewer(ctx, "v", []byte("nope"), time.Minute); err == nil {
		t.Error("unversioned value accepted")
	}

	small, _ := memoryWithClock(16 * 100) // 100 bytes per shard
	for i := range 1000 {
		small.Set(ctx, strconv.Itoa(i), make([]byte, 10), time.Hour)
	}
	for i := range small.shards {
		if b := small.shards[i].bytes; b > 100 {
			t.Fatalf("shard %d holds %d bytes, bound 100", i, b)
		}
	}
}

func TestVersionOf(t *testing.T) {
	for _, tc := range []struct {
		val string
		v   int64
		ok  bool
	}{
		{"0:", 0, true}, {"12:{}", 12, true}, {"9223372036854775807:", math.MaxInt64, true},
		{"9223372036854775808:", 0, false}, {":x", 0, false}, {"12", 0, false}, {"-1:", 0, false}, {"1a:", 0, false},
	} {
		if v, ok := versionOf([]byte(tc.val)); v != tc.v || ok != tc.ok {
			t.Errorf("versionOf(%q) = %d %v, want %d %v", tc.val, v, ok, tc.v, tc.ok)
		}
	}
}

// source is a fake database: records by id, a read counter, and an
// optional gate that holds reads.
type source struct {
	mu    sync.Mutex
	recs  map[int64]*nearby.BusinessRecord
	reads atomic.Int64
	gate  chan struct{}
	err   error
}

func (s *source) Detail(ctx context.Context, id int64) (*nearby.BusinessRecord, error) {
	s.reads.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	r, ok := s.recs[id]
	if !ok {
		return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
	}
	cp := *r
	return &cp, nil
}

func (s *source) put(r *nearby.BusinessRecord) {
	s.mu.Lock()
	s.recs[r.ID] = r
	s.mu.Unlock()
}

func record(id, version int64, name string) *nearby.BusinessRecord {
	return &nearby.BusinessRecord{
		ID: id, OwnerID: 7, Name: name, Category: nearby.Cafe, Lat: 40.758, Lon: -73.9855,
		Address: "1 Times Sq", City: "New York", State: "NY", Country: "US", Zip: "10036",
		Description: "Coffee.", Photos: []string{"https://example.com/a.jpg"}, Version: version,
		UpdatedAt: time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC),
	}
}

func newDetails(t *testing.T, store Store, src nearby.DetailService) (*Details, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return NewDetails(DetailsConfig{
		Store: store, Source: src, Prefix: "t", TTL: time.Minute, NegativeTTL: 5 * time.Second,
		Logger: quietLogger(), Registerer: reg,
	}), reg
}

func lookups(d *Details, result string) float64 {
	return testutil.ToFloat64(d.requests.WithLabelValues("detail", result))
}

func TestDetailsHitMissNegative(t *testing.T) {
	ctx := context.Background()
	store, clk := memoryWithClock(0)
	src := &source{recs: map[int64]*nearby.BusinessRecord{1: record(1, 3, "Kettle")}}
	d, _ := newDetails(t, store, src)

	for i, want := range []string{"miss", "hit", "hit"} {
		rec, err := d.Detail(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Name != "Kettle" || rec.Version != 3 || rec.Address != "1 Times Sq" || len(rec.Photos) != 1 ||
			!rec.UpdatedAt.Equal(record(1, 3, "").UpdatedAt) || rec.Category != nearby.Cafe {
			t.Fatalf("read %d: %+v", i, rec)
		}
		if got := lookups(d, want); got < 1 {
			t.Errorf("read %d: no %s counted", i, want)
		}
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("%d source reads for one miss and two hits", n)
	}

	for range 3 { // an unknown id: read once, then remembered
		if _, err := d.Detail(ctx, 2); nearby.ErrorCode(err) != nearby.ENOTFOUND {
			t.Fatalf("unknown id: %v", err)
		}
	}
	if n := src.reads.Load(); n != 2 || lookups(d, "negative_hit") != 2 {
		t.Errorf("unknown id: %d source reads, %v negative hits; want 2 and 2", n, lookups(d, "negative_hit"))
	}
	src.put(record(2, 1, "New"))
	clk.add(5 * time.Second) // the negative TTL passes
	if rec, err := d.Detail(ctx, 2); err != nil || rec.Name != "New" {
		t.Fatalf("after the negative TTL: %v %v", rec, err)
	}
	clk.add(2 * time.Minute) // the TTL (with jitter) passes
	src.put(record(1, 4, "Kettle & Willow"))
	if rec, _ := d.Detail(ctx, 1); rec.Name != "Kettle & Willow" {
		t.Errorf("after the TTL: %q", rec.Name)
	}
	if _, err := d.Detail(ctx, 0); nearby.ErrorCode(err) != nearby.ENOTFOUND {
		t.Errorf("id 0: %v", err)
	}
}

// TestDetailsSingleFlight: 200 concurrent misses of one key make one
// source read.
func TestDetailsSingleFlight(t *testing.T) {
	store, _ := memoryWithClock(0)
	src := &source{recs: map[int64]*nearby.BusinessRecord{1: record(1, 1, "Hot")}, gate: make(chan struct{})}
	d, _ := newDetails(t, store, src)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 200 {
		wg.Go(func() {
			if rec, err := d.Detail(context.Background(), 1); err != nil || rec.Name != "Hot" {
				failed.Add(1)
			}
		})
	}
	for src.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue on the flight
	close(src.gate)
	wg.Wait()
	if n := src.reads.Load(); n != 1 || failed.Load() != 0 {
		t.Errorf("%d source reads, %d failures for 200 concurrent misses; want 1 and 0", n, failed.Load())
	}

	// A waiter that gives up returns at once; the flight goes on for the
	// others and fills the cache.
	src2 := &source{recs: map[int64]*nearby.BusinessRecord{5: record(5, 1, "Slow")}, gate: make(chan struct{})}
	d2, _ := newDetails(t, store, src2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := d2.Detail(ctx, 5); errc <- err }()
	for src2.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v", err)
	}
	close(src2.gate)
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok, _ := store.Get(context.Background(), DetailKey("t", 5)); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flight did not fill the cache after its first waiter left")
		}
		time.Sleep(time.Millisecond)
	}
}

// failingStore fails every call, as Redis does while down.
type failingStore struct{ calls atomic.Int64 }

var errDown = errors.New("store down")

func (s *failingStore) Get(context.Context, string) ([]byte, bool, error) {
	s.calls.Add(1)
	return nil, false, errDown
}
func (s *failingStore) Set(context.Context, string, []byte, time.Duration) error {
	s.calls.Add(1)
	return errDown
}
func (s *failingStore) SetNewer(context.Context, string, []byte, time.Duration) (bool, error) {
	s.calls.Add(1)
	return false, errDown
}

func TestDetailsStoreDown(t *testing.T) {
	src := &source{recs: map[int64]*nearby.BusinessRecord{1: record(1, 1, "Up")}}
	d, _ := newDetails(t, &failingStore{}, src)
	for range 3 {
		if rec, err := d.Detail(context.Background(), 1); err != nil || rec.Name != "Up" {
			t.Fatalf("with the store down: %v %v", rec, err)
		}
	}
	if n := src.reads.Load(); n != 3 || lookups(d, "error") != 3 {
		t.Errorf("%d source reads, %v errors counted; want 3 and 3", n, lookups(d, "error"))
	}
	src.err = nearby.Errorf(nearby.EUNAVAILABLE, "the database is unavailable")
	if _, err := d.Detail(context.Background(), 1); nearby.ErrorCode(err) != nearby.EUNAVAILABLE {
		t.Errorf("store and source down: %v", err)
	}
}

// owners is a fake OwnerService that returns records of growing versions.
type owners struct {
	nearby.OwnerService
	version   int64
	replayed  bool
	err       error
	committed func() // called as a Patch returns
}

func (o *owners) Create(context.Context, int64, string, nearby.BusinessInput) (*nearby.BusinessRecord, bool, error) {
	o.version = 1
	return record(1, 1, "Created"), o.replayed, o.err
}
func (o *owners) Patch(context.Context, int64, int64, int64, nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	o.version++
	if o.committed != nil {
		o.committed()
	}
	return record(1, o.version, "Patched v"+strconv.FormatInt(o.version, 10)), o.err
}
func (o *owners) Replace(ctx context.Context, owner, id, v int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	return o.Patch(ctx, owner, id, v, in)
}
func (o *owners) Delete(context.Context, int64, int64, int64) error { return o.err }

// TestInvalidator: owners' writes reach the cache, a lagging replica cannot
// undo them, and a cache that is down does not fail the write.
func TestInvalidator(t *testing.T) {
	ctx := context.Background()
	store, _ := memoryWithClock(0)
	reg := prometheus.NewRegistry()
	inner := &owners{}
	inv := NewInvalidator(inner, InvalidatorConfig{Store: store, Prefix: "t", Logger: quietLogger(), Registerer: reg})
	replica := &source{recs: map[int64]*nearby.BusinessRecord{}} // lags: knows nothing yet
	d := NewDetails(DetailsConfig{Store: store, Source: replica, Prefix: "t", Logger: quietLogger(), Registerer: reg})

	// A searcher probes the id before it exists: a negative entry.
	if _, err := d.Detail(ctx, 1); nearby.ErrorCode(err) != nearby.ENOTFOUND {
		t.Fatal(err)
	}
	if _, _, err := inv.Create(ctx, 7, "", nearby.BusinessInput{}); err != nil {
		t.Fatal(err)
	}
	if rec, err := d.Detail(ctx, 1); err != nil || rec.Name != "Created" {
		t.Fatalf("after create: %v %v", rec, err)
	}
	if _, err := inv.Patch(ctx, 7, 1, 0, nearby.BusinessInput{}); err != nil {
		t.Fatal(err)
	}
	// The replica still has version 1; a fill from it must not win.
	replica.put(record(1, 1, "Created"))
	val, _ := encodeDetail(record(1, 1, "Created"), 1)
	if stored, _ := store.SetNewer(ctx, DetailKey("t", 1), val, time.Minute); stored {
		t.Fatal("a stale fill replaced the owner's write")
	}
	if rec, _ := d.Detail(ctx, 1); rec.Name != "Patched v2" {
		t.Fatalf("after patch: %q", rec.Name)
	}
	// A replayed create returns the first record (version 1): not written.
	inner.replayed = true
	inv.Create(ctx, 7, "k", nearby.BusinessInput{})
	inner.version = 2
	if rec, _ := d.Detail(ctx, 1); rec.Name != "Patched v2" {
		t.Fatalf("after a replayed create: %q", rec.Name)
	}
	if err := inv.Delete(ctx, 7, 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Detail(ctx, 1); nearby.ErrorCode(err) != nearby.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	if replica.reads.Load() != 1 {
		t.Errorf("%d replica reads; want 1 (the first probe)", replica.reads.Load())
	}
	// A failed write writes nothing.
	inner.err = nearby.Errorf(nearby.EPRECONDITION, "stale")
	inv.Patch(ctx, 7, 1, 1, nearby.BusinessInput{})
	if _, err := d.Detail(ctx, 1); nearby.ErrorCode(err) != nearby.ENOTFOUND {
		t.Errorf("a failed patch changed the cache: %v", err)
	}

	// The cache down: writes succeed, the failure is counted.
	down := NewInvalidator(&owners{}, InvalidatorConfig{Store: &failingStore{}, Prefix: "t", Logger: quietLogger(), Registerer: reg})
	if _, err := down.Patch(ctx, 7, 1, 0, nearby.BusinessInput{}); err != nil {
		t.Fatalf("write failed with the cache down: %v", err)
	}
	if n := testutil.ToFloat64(down.invalidations.WithLabelValues("error")); n != 1 {
		t.Errorf("%v invalidation errors counted, want 1", n)
	}
}

// ctxStore is a Store that, as Redis's does, fails calls whose context has
// ended.
type ctxStore struct{ Store }

func (s ctxStore) SetNewer(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.Store.SetNewer(ctx, key, val, ttl)
}

// TestInvalidatorClientGone: a write that committed updates the cache even
// when its request's context ends as it commits (the owner's client hung
// up, or the deadline came): else searchers would see the old detail until
// it expires.
func TestInvalidatorClientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := NewMemory(0)
	inv := NewInvalidator(&owners{committed: cancel}, InvalidatorConfig{
		Store: ctxStore{store}, Prefix: "t", Logger: quietLogger(), Registerer: prometheus.NewRegistry(),
	})
	if _, err := inv.Patch(ctx, 7, 1, 0, nearby.BusinessInput{}); err != nil {
		t.Fatal(err)
	}
	val, ok, err := store.Get(context.Background(), DetailKey("t", 1))
	if err != nil || !ok {
		t.Fatalf("the committed write is not cached: %v %v", ok, err)
	}
	if rec, err := decodeDetail(val); err != nil || rec.Name != "Patched v1" {
		t.Fatalf("cached %+v, %v; want the patched record", rec, err)
	}
}
