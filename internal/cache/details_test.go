package cache

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
)

// TestDetailEncodingAttributes round-trips records with and without
// attributes through the cached form, and refuses attributes out of range.
func TestDetailEncodingAttributes(t *testing.T) {
	var h hours.Schedule
	if err := h.UnmarshalJSON([]byte(`{"time_zone":"Europe/Paris","weekly":{"fri":[["18:00","02:00"]]}}`)); err != nil {
		t.Fatal(err)
	}
	full := record(1, 3, "Kettle")
	full.Price, full.Rating, full.ReviewCount, full.Hours = 3, nearby.RatingOf(47), 812, &h
	zeroStars := record(2, 1, "Tough crowd")
	zeroStars.Rating = nearby.RatingOf(0)
	for _, rec := range []*nearby.BusinessRecord{full, zeroStars, record(3, 1, "Plain")} {
		val, err := encodeDetail(rec, rec.Version)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeDetail(val)
		if err != nil {
			t.Fatalf("%s: %v", val, err)
		}
		if got.Price != rec.Price || got.Rating != rec.Rating || got.ReviewCount != rec.ReviewCount ||
			!got.Business().Equal(rec.Business()) {
			t.Errorf("%s decoded as %+v, want %+v", val, got, rec)
		}
	}
	// Entries without attributes, as written before they existed, have none.
	plain, _ := encodeDetail(record(3, 1, "Plain"), 1)
	if strings.Contains(string(plain), "price") || strings.Contains(string(plain), "hours") {
		t.Errorf("unset attributes encoded: %s", plain)
	}
	for _, bad := range []string{
		`1:{"id":1,"name":"x","category":"cafe","price":5,"version":1}`,
		`1:{"id":1,"name":"x","category":"cafe","rating":51,"version":1}`,
		`1:{"id":1,"name":"x","category":"cafe","rating":-1,"version":1}`,
		`1:{"id":1,"name":"x","category":"cafe","rating":301,"version":1}`,
	} {
		if rec, err := decodeDetail([]byte(bad)); err == nil {
			t.Errorf("%s decoded as %+v", bad, rec)
		}
	}
}

// TestDetailsNegativeWithinTTL: an unknown id is not remembered longer
// than a record. Without Redis (TTL 10 s, negative TTL 30 s, searchd's
// defaults), a business created just after a searcher probed its id, or
// read from a replica that had not caught up with the create, shows within
// the TTL, as for any other owner's write.
func TestDetailsNegativeWithinTTL(t *testing.T) {
	ctx := context.Background()
	store, clk := memoryWithClock(0)
	src := &source{recs: map[int64]*nearby.BusinessRecord{}}
	d := NewDetails(DetailsConfig{
		Store: store, Source: src, Prefix: "t", TTL: DefaultLocalDetailTTL, NegativeTTL: DefaultNegativeTTL,
		Logger: quietLogger(), Registerer: prometheus.NewRegistry(),
	})
	if _, err := d.Detail(ctx, 1); nearby.ErrorCode(err) != nearby.ENOTFOUND {
		t.Fatalf("before the create: %v", err)
	}
	src.put(record(1, 1, "New"))
	clk.add(DefaultLocalDetailTTL)
	if rec, err := d.Detail(ctx, 1); err != nil || rec.Name != "New" {
		t.Fatalf("a TTL (%v) after the create: %v %v; want the new business", DefaultLocalDetailTTL, rec, err)
	}
}

// TestDetailsWithinTTL: the TTL is a bound (docs/REDIS.md promises an
// owner's write shows after at most the TTL when the cache was not
// refreshed): the jitter that spreads expiries only shortens it. Each of
// many entries, filled at one instant, has expired a TTL later.
func TestDetailsWithinTTL(t *testing.T) {
	ctx := context.Background()
	store, clk := memoryWithClock(0)
	src := &source{recs: map[int64]*nearby.BusinessRecord{}}
	d := NewDetails(DetailsConfig{
		Store: store, Source: src, Prefix: "t", TTL: DefaultLocalDetailTTL,
		Logger: quietLogger(), Registerer: prometheus.NewRegistry(),
	})
	const n = 200
	for id := int64(1); id <= n; id++ {
		src.put(record(id, 1, "Old"))
		if _, err := d.Detail(ctx, id); err != nil {
			t.Fatal(err)
		}
		src.put(record(id, 2, "New"))
	}
	clk.add(DefaultLocalDetailTTL)
	for id := int64(1); id <= n; id++ {
		if rec, err := d.Detail(ctx, id); err != nil || rec.Name != "New" {
			t.Fatalf("business %d a TTL (%v) after its fill: %v %v; want the new version", id, DefaultLocalDetailTTL, rec, err)
		}
	}
}

// TestDetailsHoursUnknownHere: owner-api wrote a record whose opening hours
// name a time zone this process's tz database lacks (hosts or Go versions
// differ). The entry is served, hours unknown, as the replica's row and the
// index read them here; refused, every read of the business went to the
// database (the fill, of the same version, cannot replace the entry) with
// a warning each, for the entry's whole TTL.
func TestDetailsHoursUnknownHere(t *testing.T) {
	ctx := context.Background()
	store, _ := memoryWithClock(0)
	rec := record(1, 4, "Night owl")
	src := &source{recs: map[int64]*nearby.BusinessRecord{1: rec}}
	d, _ := newDetails(t, store, src)
	val, err := encodeDetail(rec, rec.Version)
	if err != nil {
		t.Fatal(err)
	}
	val = []byte(strings.Replace(string(val), `"version":`, `"hours":{"time_zone":"Nowhere/Land","weekly":{"fri":[["22:00","02:00"]]}},"version":`, 1))
	if _, err := store.SetNewer(ctx, DetailKey("t", 1), val, time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := d.Detail(ctx, 1)
		if err != nil || got.Name != "Night owl" || got.Version != 4 || got.Hours != nil {
			t.Fatalf("detail: %+v %v; want the cached record, hours unknown", got, err)
		}
	}
	if n := src.reads.Load(); n != 0 || lookups(d, "hit") != 3 {
		t.Errorf("%d database reads and %v hits for 3 reads of a cached record; want 0 and 3", n, lookups(d, "hit"))
	}
}
