package cache

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/nearby/nearby"
)

// panickySource panics on its first read, then answers.
type panickySource struct{ reads atomic.Int64 }

func (s *panickySource) Detail(_ context.Context, id int64) (*nearby.BusinessRecord, error) {
	if s.reads.Add(1) == 1 {
		panic("source bug")
	}
	return record(id, 1, "Recovered"), nil
}

// TestDetailsSourcePanics: a panic in the source is the one request's
// internal error (the HTTP server would recover a handler's own panic, but
// the fill runs in a goroutine of its own, where a panic kills the
// process), and it does not poison the key: the next read fills it.
func TestDetailsSourcePanics(t *testing.T) {
	store, _ := memoryWithClock(0)
	src := &panickySource{}
	d, _ := newDetails(t, store, src)
	if _, err := d.Detail(context.Background(), 1); nearby.ErrorCode(err) != nearby.EINTERNAL {
		t.Fatalf("read through a panicking source: %v, want EINTERNAL", err)
	}
	if _, ok, _ := store.Get(context.Background(), DetailKey("t", 1)); ok {
		t.Fatal("a panicking read filled the cache")
	}
	if rec, err := d.Detail(context.Background(), 1); err != nil || rec.Name != "Recovered" {
		t.Fatalf("read after the panic: %v, %v", rec, err)
	}
}
