package cache

import (
	"context"
	"errors"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Store keeps values with a time to live. *redis.Client and *Memory are
// Stores. Values returned by Get must not be modified.
type Store interface {
	// Get returns the value stored under key; ok is false when there is
	// none (a miss is not an error).
	Get(ctx context.Context, key string) (val []byte, ok bool, err error)
	// Set stores val under key for ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// SetNewer stores val, a versioned value ("<decimal version>:..."),
	// under key for ttl unless key holds a versioned value at least as new,
	// atomically.
	SetNewer(ctx context.Context, key string, val []byte, ttl time.Duration) (stored bool, err error)
}

// versionOf returns the version of a versioned value.
func versionOf(val []byte) (int64, bool) {
	for i, c := range val {
		if c == ':' {
			v, err := strconv.ParseInt(string(val[:i]), 10, 64)
			if err != nil || i == 0 {
				return 0, false
			}
			return v, true
		}
		if c < '0' || c > '9' || i > 19 {
			break
		}
	}
	return 0, false
}

// DefaultMemoryBytes bounds a Memory store by default.
const DefaultMemoryBytes = 64 << 20

// Memory is a Store in the process: the fallback when no Redis is
// configured. It holds at most about maxBytes of entries (keys, values and
// memEntryOverhead each); past that it drops expired entries first, then
// arbitrary ones. It is safe for concurrent use.
type Memory struct {
	shards [16]memShard
	seed   maphash.Seed
	max    int // bytes per shard
	now    func() time.Time
}

type memShard struct {
	mu     sync.Mutex
	m      map[string]memEntry
	bytes  int
	sweeps int // scans of a full shard (tests)
}

type memEntry struct {
	val     []byte
	expires time.Time
}

// memEntryOverhead is about what an entry costs besides its key's and
// value's bytes (map slot, string and slice headers, expiry). Counting it
// and the key keeps the bound when values are tiny: a negative detail
// entry is 2 bytes, and probes of made-up ids would otherwise fill the
// store with millions of them.
const memEntryOverhead = 64

func (e memEntry) size(key string) int { return len(key) + len(e.val) + memEntryOverhead }

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store of at most maxBytes of
// values (DefaultMemoryBytes when maxBytes ≤ 0).
func NewMemory(maxBytes int) *Memory {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryBytes
	}
	s := &Memory{seed: maphash.MakeSeed(), max: max(1, maxBytes/16), now: time.Now}
	for i := range s.shards {
		s.shards[i].m = map[string]memEntry{}
	}
	return s
}

func (s *Memory) shard(key string) *memShard {
	return &s.shards[maphash.String(s.seed, key)%uint64(len(s.shards))]
}

// Get implements Store.
func (s *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok {
		return nil, false, nil
	}
	if !s.now().Before(e.expires) {
		sh.drop(key, e)
		return nil, false, nil
	}
	return e.val, true, nil
}

// Set implements Store.
func (s *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s.put(sh, key, val, ttl)
	return nil
}

// SetNewer implements Store.
func (s *Memory) SetNewer(_ context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	v, ok := versionOf(val)
	if !ok {
		return false, errors.New("cache: value has no version")
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok && s.now().Before(e.expires) {
		if cur, ok := versionOf(e.val); ok && cur >= v {
			return false, nil
		}
	}
	s.put(sh, key, val, ttl)
	return true, nil
}

func (s *Memory) put(sh *memShard, key string, val []byte, ttl time.Duration) {
	if e, ok := sh.m[key]; ok {
		sh.drop(key, e)
	}
	val = append([]byte(nil), val...)
	now := s.now()
	e := memEntry{val: val, expires: now.Add(ttl)}
	sh.m[key] = e
	sh.bytes += e.size(key)
	if sh.bytes <= s.max {
		return
	}
	// The scan for expired entries visits them all: free an eighth of the
	// shard, so that a full store scans once per many writes, not at each.
	sh.sweeps++
	low := s.max - s.max/8
	for k, e := range sh.m { // expired entries first
		if !now.Before(e.expires) {
			sh.drop(k, e)
		}
	}
	for k, e := range sh.m { // then arbitrary ones (map order is random)
		if sh.bytes <= low {
			break
		}
		if k != key {
			sh.drop(k, e)
		}
	}
}

func (sh *memShard) drop(key string, e memEntry) {
	delete(sh.m, key)
	sh.bytes -= e.size(key)
}

// jitter spreads a TTL over its last 10%, [0.9 ttl, ttl], so keys filled
// together expire apart; r is in [0, 1). It only shortens: the TTL stays a
// bound on how long an entry, and so a stale one, is served.
func jitter(ttl time.Duration, r float64) time.Duration {
	return time.Duration(math.Round(float64(ttl) * (0.9 + 0.1*r)))
}

// counterVec registers a counter vector on reg, or returns the one already
// registered under its name (the caches of one process share metrics).
func counterVec(reg prometheus.Registerer, opts prometheus.CounterOpts, labels ...string) *prometheus.CounterVec {
	cv := prometheus.NewCounterVec(opts, labels)
	if err := reg.Register(cv); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		panic(err)
	}
	return cv
}

// requests returns the counter of cache lookups by cache and result.
func requests(reg prometheus.Registerer) *prometheus.CounterVec {
	return counterVec(reg, prometheus.CounterOpts{
		Name: "nearby_cache_requests_total",
		Help: "Cache lookups by cache (detail, search) and result (hit, negative_hit, miss, error: the store failed and was bypassed).",
	}, "cache", "result")
}
