// Package cache holds searchd's and owner-api's caching policy, apart from
// any cache server: a read-through cache of business details, a cache of
// search answers, and the write-through that keeps details fresh after
// owners' writes. It stores through a Store: Redis in production (package
// internal/redis), or Memory, in the process, when no Redis is configured.
//
// Details (Details): key "<prefix>:detail:<id>", value "<version>:<JSON>",
// kept for a TTL (DefaultDetailTTL, shortened by up to 10% at random so
// that keys filled together do not expire together: the TTL is a bound). An id the database does not have is
// remembered as "0:" for a short NegativeTTL, so that probing unknown ids
// does not reach the database each time. Concurrent misses of one key in a
// process make one database read (single flight), so a hot key expiring
// sends one query, not one per waiting request.
//
// Freshness (Invalidator): after an owner's write commits, owner-api writes
// the new record (or, for a delete, a tombstone of the greatest version)
// into the cache. Writes are SetNewer: a value replaces another only if its
// version is greater. So a searchd that read a lagging replica just before
// cannot put the old version back, and the owner reads their own write on
// the next read even though the replica has not caught up. Had the owner's
// write merely deleted the key, that race would restore stale data for a
// whole TTL.
//
// Degraded mode: a Store error is never the caller's error. Details are
// then read from the database (still one read per key at a time), search
// answers computed, and owners' writes succeed; the failure is counted
// (nearby_cache_requests_total{result="error"},
// nearby_cache_invalidations_total{result="error"}). An owner's write made
// while Redis was unreachable shows after at most the TTL.
//
// Search answers (Searcher): key "<prefix>:search:<index version>:<query>",
// where the query is normalised to the exact bits of its floats (lat, lon,
// radius; -0 as 0), limit, categories and cursor. Keys are not quantised, so
// a cached answer is exactly the answer the index gives; a new index version
// changes every key, so an old answer is never served for a new index.
// Partial answers (a region did not answer) are not cached.
package cache
