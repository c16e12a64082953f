// Package ratelimit is the HTTP rate limiter of searchd and owner-api: a
// middleware that sorts requests into classes of routes (Rules, from a YAML
// file or the built-in Defaults), identifies the client (an owner's verified
// bearer token, an API key, else the address: IPv4 per address, IPv6 per
// /64) and admits at most Limit requests of a client in any sliding Window
// of a class.
//
// The algorithm is a sliding-window log: a request is admitted if fewer
// than Limit of the client's requests were admitted in the Window before
// it, and then logged; refused requests are not logged. So in every window
// of that length, wherever it starts, a client gets at most Limit admitted
// requests (no doubled burst at fixed window edges as with counters, no
// refill burst as with token buckets), and a client that keeps retrying is
// not locked out any longer for it. The shared limiter is Redis (one Lua
// script per request: atomic, exact under any concurrency, across every
// process of the service); the Local limiter keeps the same log in memory.
//
// Without Redis, or while it is unavailable (the Redis client's circuit is
// open, or a call fails or times out), each process decides alone with its
// Local limiter: exact per process, so with N processes behind a balancer
// a client can get up to N × Limit per window until Redis is back. That is
// the documented trade: the service keeps answering rather than refusing
// everyone or admitting everyone.
package ratelimit
