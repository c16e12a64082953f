package redis

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// slidingWindow keeps, in the sorted set KEYS[1], the admission times of a
// client's requests (microseconds of the Redis clock, so every node of the
// service shares one clock). A request is admitted if fewer than ARGV[1]
// were admitted in the last ARGV[2] µs; ARGV[3] is a unique member.
// Returns {admitted (0/1), remaining, µs until the next admission}. The
// next admission waits until the log is down to limit-1 entries, that is
// until its entry at index n-limit (from 0, oldest first) leaves, n being
// its length once this request is decided: the limit itself, or more when
// the log was kept under a higher limit (rules changed).
var slidingWindow = goredis.NewScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  n = n + 1
  if n < limit then return {1, limit - n, 0} end
  local last = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, 0, tonumber(last[2]) + window - now}
end
local last = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, 0, tonumber(last[2]) + window - now}
`)

// member numbers this process's log entries: a random process tag and a
// counter, so entries of concurrent requests never collide.
var (
	memberTag = strconv.FormatUint(rand.Uint64(), 36) + "-"
	memberSeq atomic.Uint64
)

// Allow decides one request of the client whose log is key, against a
// limit of limit requests in any sliding window of length window: admitted
// requests are logged; refused ones are not (they do not extend the
// wait). It returns whether the request is admitted, how many more would
// be admitted now, and when the next would be (0 while remaining > 0).
// The decision is one atomic script, exact under any concurrency and across
// every node that shares the Redis. The log holds at most limit entries
// and expires a window after its newest.
func (c *Client) Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, remaining int, retryAfter time.Duration, err error) {
	member := memberTag + strconv.FormatUint(memberSeq.Add(1), 36)
	err = c.call(ctx, "ratelimit", func(ctx context.Context) error {
		res, err := slidingWindow.Run(ctx, c.rdb, []string{key}, limit, window.Microseconds(), member).Int64Slice()
		if err != nil {
			return err
		}
		if len(res) != 3 {
			return errors.New("rate limit script: unexpected reply")
		}
		allowed, remaining, retryAfter = res[0] == 1, int(res[1]), time.Duration(res[2])*time.Microsecond
		return nil
	})
	return allowed, remaining, retryAfter, err
}
