package cache

import (
	"context"
	"testing"
	"time"
)

// TestMemoryBoundSmallValues: the bound holds for entries whose values are
// tiny, such as the 2-byte negative entries that probes of made-up ids
// leave: keys and each entry's overhead count too, or a store of 64 MB of
// "values" would hold tens of millions of entries, gigabytes of memory.
func TestMemoryBoundSmallValues(t *testing.T) {
	m, _ := memoryWithClock(16 * 1000) // 1000 bytes per shard
	for id := range int64(10_000) {
		m.SetNewer(context.Background(), DetailKey("p", id+1), []byte("0:"), time.Minute)
	}
	for i := range m.shards {
		sh := &m.shards[i]
		held := 0
		for k, e := range sh.m {
			held += len(k) + len(e.val)
		}
		if held > 1000 {
			t.Fatalf("shard %d holds %d entries, %d bytes of keys and values; bound 1000", i, len(sh.m), held)
		}
	}
}

// TestMemoryEvictionAmortised: a full store does not scan all its entries
// on every write (at 64 MB of small negative entries that is tens of
// thousands per write, under the shard's lock): eviction frees an eighth of
// the shard, so scans come once per many writes.
func TestMemoryEvictionAmortised(t *testing.T) {
	m, _ := memoryWithClock(16 << 16) // 64 KiB per shard, ~900 small entries
	const writes = 50_000
	for id := range int64(writes) {
		m.SetNewer(context.Background(), DetailKey("p", id+1), []byte("0:"), time.Minute)
	}
	sweeps := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sweeps += sh.sweeps
		if sh.bytes > m.max {
			t.Fatalf("shard %d holds %d bytes, bound %d", i, sh.bytes, m.max)
		}
	}
	if sweeps > writes/50 {
		t.Fatalf("%d scans of a full shard for %d writes", sweeps, writes)
	}
}
