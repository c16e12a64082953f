package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/cache"
	"github.com/nearby/nearby/internal/ownerapi"
	"github.com/nearby/nearby/internal/ratelimit"
	"github.com/nearby/nearby/internal/redis"
)

// tierConfig configures owner-api's use of Redis: refreshing searchd's
// detail cache after writes, and rate limits. See docs/REDIS.md.
type tierConfig struct {
	Redis        string // URL; "" : no cache to refresh, per-process rate limits
	RedisTimeout time.Duration
	RedisPrefix  string
	DetailTTL    time.Duration
	RateLimits   string // rules file, "" for the defaults, "off"
	rules        *ratelimit.Rules
}

// flags registers the tier's flags and returns the check to run after
// parsing.
func (c *tierConfig) flags(f flags) func() error {
	var timeout, detailTTL string
	f.StringVar(&c.Redis, "redis", f.env("NEARBY_REDIS", ""), "Redis URL shared with searchd: writes refresh its detail cache, and rate limits are shared by every owner-api; redis://host:6379/0, a cluster (?addr=host2:port...) or Sentinel (?master_name=NAME); empty: per-process limits (env NEARBY_REDIS)")
	f.StringVar(&timeout, "redis-timeout", f.env("NEARBY_REDIS_TIMEOUT", redis.DefaultTimeout.String()), "bound on every Redis call (env NEARBY_REDIS_TIMEOUT)")
	f.StringVar(&c.RedisPrefix, "redis-prefix", f.env("NEARBY_REDIS_PREFIX", "nearby"), "prefix of every Redis key; searchd must use the same (env NEARBY_REDIS_PREFIX)")
	f.StringVar(&detailTTL, "detail-ttl", f.env("NEARBY_DETAIL_TTL", cache.DefaultDetailTTL.String()), "how long a written business detail stays cached; as searchd's --detail-ttl (env NEARBY_DETAIL_TTL)")
	f.StringVar(&c.RateLimits, "rate-limits", f.env("NEARBY_RATE_LIMITS", ""), "rate limit rules file (YAML); empty applies the built-in defaults, off disables limiting (env NEARBY_RATE_LIMITS)")
	return func() error {
		var err error
		if c.RedisTimeout, err = time.ParseDuration(timeout); err != nil || c.RedisTimeout <= 0 {
			return fmt.Errorf("bad --redis-timeout %q", timeout)
		}
		if c.Redis != "" {
			if _, err := redis.ParseURL(c.Redis); err != nil {
				return fmt.Errorf("--redis: %w", err)
			}
		}
		if c.DetailTTL, err = time.ParseDuration(detailTTL); err != nil || c.DetailTTL <= 0 {
			return fmt.Errorf("bad --detail-ttl %q", detailTTL)
		}
		if c.rules, err = ratelimit.FromFlag(c.RateLimits, "owner-api"); err != nil {
			return fmt.Errorf("--rate-limits: %w", err)
		}
		return nil
	}
}

// buildTier wraps the owners' service so that writes refresh the detail
// cache, and returns it with the rate-limiting middleware and a function
// that closes what was opened.
func buildTier(ctx context.Context, c tierConfig, svc nearby.OwnerService, secret []byte, logger *slog.Logger, reg prometheus.Registerer) (nearby.OwnerService, []func(http.Handler) http.Handler, func(), error) {
	closeAll := func() {}
	var shared ratelimit.Limiter
	if c.Redis != "" {
		rc, err := redis.Open(ctx, redis.Config{URL: c.Redis, Timeout: c.RedisTimeout}, logger, reg)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("redis: %w", err)
		}
		closeAll = func() { rc.Close() }
		shared = rc
		svc = cache.NewInvalidator(svc, cache.InvalidatorConfig{
			Store: rc, Prefix: c.RedisPrefix, TTL: c.DetailTTL, Logger: logger, Registerer: reg,
		})
	}
	var mw []func(http.Handler) http.Handler
	if c.rules != nil {
		mw = append(mw, ratelimit.Middleware(ratelimit.Config{
			Service: "owner-api", Prefix: c.RedisPrefix, Rules: c.rules, Shared: shared, Local: ratelimit.NewLocal(),
			ClientKey: ratelimit.BearerKey(ownerapi.NewAuthenticator(secret, nil).Owner),
			Logger:    logger, Registerer: reg,
		}))
	}
	rateLimits := c.RateLimits
	if rateLimits == "" {
		rateLimits = "built-in defaults"
	}
	if c.rules != nil && shared == nil {
		rateLimits += " (per process: no Redis)"
	}
	logger.Info("config: redis tier", "redis", redis.Redact(c.Redis), "redis_timeout", c.RedisTimeout.String(),
		"redis_prefix", c.RedisPrefix, "detail_ttl", c.DetailTTL.String(), "rate_limits", rateLimits)
	return svc, mw, closeAll, nil
}
