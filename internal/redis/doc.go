// Package redis is nearby's Redis adapter, over go-redis's universal client
// (one server, a Redis Cluster or a Sentinel-managed primary, chosen by the
// URL). It gives the cache a key-value store with versioned writes and the
// rate limiter an atomic sliding-window log, both as Lua scripts that touch
// one key each, so they work unchanged on a cluster.
//
// Redis is never on the critical path of an answer. Every call is bounded
// by a short timeout (Config.Timeout, 50 ms by default) and goes through a
// circuit breaker: after Config.FailureThreshold consecutive failures
// (timeouts, refused or dropped connections, LOADING/MASTERDOWN/CLUSTERDOWN
// replies, credentials refused with NOAUTH/WRONGPASS) the circuit opens,
// calls fail at once with ErrUnavailable, the gauge nearby_redis_up drops
// to 0 and one warning is logged (an error naming the credentials when
// they were refused: that outage ends only when someone fixes them). A background
// probe then PINGs every Config.ProbeInterval; the first answer closes the
// circuit, logs that Redis is back and normal operation resumes by itself.
// A miss (redis.Nil) is not an error, and a caller that gives up (its
// context cancelled) does not count against Redis. Nor does a call the ACL
// refuses (NOPERM): Redis serves, so the circuit stays closed, and an error
// naming the commands to grant is logged once per operation every 10
// minutes, as the callers' fallbacks would otherwise hide it.
//
// Callers decide what a failure means: the detail cache reads through to
// the database, the search cache computes the answer, the rate limiter
// falls back to a per-process limiter. A Client is safe for concurrent use.
//
// Scripts call TIME and write afterwards, which needs Redis 5 or later
// (effects replication, the default since 5 and the only mode since 7).
package redis
