package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/cache"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/ratelimit"
	"github.com/nearby/nearby/internal/redis"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/internal/web"
)

// tierConfig configures the data tier behind searchd's index: business
// details from the read replica through a cache, the search answer cache,
// Redis and rate limits. See docs/REDIS.md.
type tierConfig struct {
	Redis          string // URL; "" keeps caches and rate limits in the process
	RedisTimeout   time.Duration
	RedisPrefix    string
	DB             string        // read replica DSN for details and live changes; "" serves the index's summaries
	DetailTTL      time.Duration // 0: cache.DefaultDetailTTL with Redis, cache.DefaultLocalDetailTTL without
	NegativeTTL    time.Duration
	SearchCache    bool
	SearchCacheTTL time.Duration
	RateLimits     string // rules file, "" for the defaults, "off"
	rules          *ratelimit.Rules
}

// flags registers the tier's flags on fs and returns the check to run after
// parsing.
func (c *tierConfig) flags(fs *flag.FlagSet, env func(name, def string) string) func() error {
	var timeout, detailTTL, negTTL, searchCache, searchTTL string
	fs.StringVar(&c.Redis, "redis", env("NEARBY_REDIS", ""), "Redis URL for the detail cache, the search cache and rate limits: redis://host:6379/0, a cluster (?addr=host2:port...) or Sentinel (?master_name=NAME); empty keeps them in the process (env NEARBY_REDIS)")
	fs.StringVar(&timeout, "redis-timeout", env("NEARBY_REDIS_TIMEOUT", redis.DefaultTimeout.String()), "bound on every Redis call; past it the request goes on without Redis (env NEARBY_REDIS_TIMEOUT)")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", env("NEARBY_REDIS_PREFIX", "nearby"), "prefix of every Redis key; owner-api must use the same (env NEARBY_REDIS_PREFIX)")
	fs.StringVar(&c.DB, "db", env("NEARBY_DB_REPLICA", ""), "PostgreSQL read replica DSN: /v1/businesses/{id} then returns full records through the cache; empty serves the index's summaries (env NEARBY_DB_REPLICA)")
	fs.StringVar(&detailTTL, "detail-ttl", env("NEARBY_DETAIL_TTL", ""), "how long a business detail stays cached; default 5m with --redis (owner-api refreshes entries on writes), 10s without (env NEARBY_DETAIL_TTL)")
	fs.StringVar(&negTTL, "detail-negative-ttl", env("NEARBY_DETAIL_NEGATIVE_TTL", cache.DefaultNegativeTTL.String()), "how long an unknown business id is remembered; at most the detail TTL (env NEARBY_DETAIL_NEGATIVE_TTL)")
	searchCache = env("NEARBY_SEARCH_CACHE", "false")
	envSearchCache, envErr := strconv.ParseBool(searchCache)
	fs.BoolVar(&c.SearchCache, "search-cache", envSearchCache, "cache search answers (in Redis with --redis); off by default: measured slower than the in-memory index, see BENCHMARKS.md (env NEARBY_SEARCH_CACHE)")
	fs.StringVar(&searchTTL, "search-cache-ttl", env("NEARBY_SEARCH_CACHE_TTL", cache.DefaultSearchTTL.String()), "how long a search answer stays cached (env NEARBY_SEARCH_CACHE_TTL)")
	fs.StringVar(&c.RateLimits, "rate-limits", env("NEARBY_RATE_LIMITS", ""), "rate limit rules file (YAML); empty applies the built-in defaults, off disables limiting (env NEARBY_RATE_LIMITS)")
	// The defaults come from the environment, and the usage shows them:
	// on --help, and on any bad flag into the logs. Passwords stay out.
	if f := fs.Lookup("redis"); f.DefValue != "" {
		f.DefValue = redis.Redact(f.DefValue)
	}
	if f := fs.Lookup("db"); f.DefValue != "" {
		f.DefValue = postgres.Redact(f.DefValue)
	}
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
		if detailTTL != "" {
			if c.DetailTTL, err = time.ParseDuration(detailTTL); err != nil || c.DetailTTL <= 0 {
				return fmt.Errorf("bad --detail-ttl %q", detailTTL)
			}
		}
		if c.NegativeTTL, err = time.ParseDuration(negTTL); err != nil || c.NegativeTTL <= 0 {
			return fmt.Errorf("bad --detail-negative-ttl %q", negTTL)
		}
		if envErr != nil {
			return fmt.Errorf("bad NEARBY_SEARCH_CACHE %q: want true or false", searchCache)
		}
		if c.SearchCacheTTL, err = time.ParseDuration(searchTTL); err != nil || c.SearchCacheTTL <= 0 {
			return fmt.Errorf("bad --search-cache-ttl %q", searchTTL)
		}
		if c.rules, err = ratelimit.FromFlag(c.RateLimits, "searchd"); err != nil {
			return fmt.Errorf("--rate-limits: %w", err)
		}
		return nil
	}
}

// cachedSearch is the search cache with the engine's density grids, which
// the cache does not pass through: without them the explorer's density
// view (GET /v1/index/density) would be a 404 with --search-cache.
type cachedSearch struct {
	*cache.Searcher
	engine *search.Engine
}

var _ web.DensityIndex = cachedSearch{}

// Density implements web.DensityIndex, uncached.
func (c cachedSearch) Density(ctx context.Context, g nearby.DensityGrid) (*nearby.DensityCounts, error) {
	return c.engine.Density(ctx, g)
}

// tier is what buildTier wired.
type tier struct {
	svc   nearby.SearchService // the search service to serve
	opts  []httpapi.Option     // the server's options
	feed  search.Feed          // the replica's change feed; nil without --db
	close func()               // closes what was opened
}

// buildTier wires the tier around engine.
func buildTier(ctx context.Context, c tierConfig, engine *search.Engine, logger *slog.Logger, reg prometheus.Registerer) (*tier, error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var store cache.Store // nil: each cache gets its own in-process store
	var shared ratelimit.Limiter
	if c.Redis != "" {
		rc, err := redis.Open(ctx, redis.Config{URL: c.Redis, Timeout: c.RedisTimeout}, logger, reg)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		closers = append(closers, func() { rc.Close() })
		store, shared = rc, rc
	}
	storeOr := func() cache.Store {
		if store != nil {
			return store
		}
		return cache.NewMemory(cache.DefaultMemoryBytes)
	}
	if c.DetailTTL == 0 {
		c.DetailTTL = cache.DefaultLocalDetailTTL
		if store != nil {
			c.DetailTTL = cache.DefaultDetailTTL
		}
	}
	c.NegativeTTL = min(c.NegativeTTL, c.DetailTTL) // as cache.NewDetails does: logged as applied

	var svc nearby.SearchService = engine
	var opts []httpapi.Option
	var feed search.Feed
	if c.DB != "" {
		db, err := postgres.Open(ctx, postgres.Config{Primary: c.DB})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("--db: %w", err)
		}
		closers = append(closers, db.Close)
		businesses := postgres.NewBusinessService(db)
		feed = businesses
		opts = append(opts, httpapi.WithDetails(cache.NewDetails(cache.DetailsConfig{
			Store: storeOr(), Source: businesses, Prefix: c.RedisPrefix,
			TTL: c.DetailTTL, NegativeTTL: c.NegativeTTL, Logger: logger, Registerer: reg,
		})))
	}
	if c.SearchCache {
		svc = cachedSearch{cache.NewSearcher(engine, cache.SearcherConfig{
			Store: storeOr(), Prefix: c.RedisPrefix, TTL: c.SearchCacheTTL, Registerer: reg,
			Index: engine.State,
		}), engine}
	}
	if c.rules != nil {
		opts = append(opts, httpapi.WithMiddleware(ratelimit.Middleware(ratelimit.Config{
			Service: "searchd", Prefix: c.RedisPrefix, Rules: c.rules, Shared: shared, Local: ratelimit.NewLocal(),
			Logger: logger, Registerer: reg,
		})))
	}
	rateLimits := c.RateLimits
	if rateLimits == "" {
		rateLimits = "built-in defaults"
	}
	if c.rules != nil && shared == nil {
		rateLimits += " (per process: no Redis)"
	}
	logger.Info("config: data tier", "redis", redis.Redact(c.Redis), "redis_timeout", c.RedisTimeout.String(),
		"redis_prefix", c.RedisPrefix, "db", postgres.Redact(c.DB), "detail_ttl", c.DetailTTL.String(),
		"detail_negative_ttl", c.NegativeTTL.String(), "search_cache", c.SearchCache,
		"search_cache_ttl", c.SearchCacheTTL.String(), "rate_limits", rateLimits)
	return &tier{svc: svc, opts: opts, feed: feed, close: closeAll}, nil
}
