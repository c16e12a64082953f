package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Defaults of Config.
const (
	DefaultTimeout          = 50 * time.Millisecond
	DefaultFailureThreshold = 3
	DefaultProbeInterval    = 500 * time.Millisecond
)

// ErrUnavailable is returned, without trying, while the circuit is open.
var ErrUnavailable = errors.New("redis unavailable (circuit open)")

// Config configures a Client.
type Config struct {
	// URL names the server, cluster or sentinels:
	//
	//	redis://[user:password@]host:port[/db]              one server
	//	rediss://...                                        the same over TLS
	//	redis://host1:port?addr=host2:port&addr=host3:port  a Redis Cluster (seed nodes)
	//	redis://host:port?cluster=true                      a cluster behind one configuration endpoint
	//	redis://sentinel1:26379?addr=sentinel2:26379&master_name=mymaster
	//	                                                    a primary found through Sentinel; the
	//	                                                    password is the primary's, sentinel_password
	//	                                                    (a query parameter) the sentinels'
	URL string
	// Timeout bounds every call, connecting included (default
	// DefaultTimeout). A healthy Redis answers in well under a millisecond
	// on a LAN; the timeout is what a request pays, at most, when Redis
	// hangs, before the circuit opens.
	Timeout time.Duration
	// FailureThreshold is the number of consecutive failures that opens
	// the circuit (default DefaultFailureThreshold).
	FailureThreshold int
	// ProbeInterval is how often an open circuit PINGs Redis to close
	// again (default DefaultProbeInterval).
	ProbeInterval time.Duration
	// PoolSize is the most connections per node (0: go-redis's default,
	// 10 per CPU).
	PoolSize int
}

// Client is a Redis client with a circuit breaker. It implements the cache
// package's store and the rate limiter's shared limiter.
type Client struct {
	rdb     goredis.UniversalClient
	timeout time.Duration
	br      *breaker
	logger  *slog.Logger
	stop    context.CancelFunc
	denied  *deniedLog

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	errors        *prometheus.CounterVec
	shortCircuits prometheus.Counter
}

// Open returns a client for cfg.URL. It does not need Redis to be up: if a
// first PING fails, it logs a warning and starts with the circuit open, so
// the service starts degraded and recovers when Redis answers. Metrics are
// registered on reg. go-redis's own messages go to logger too, throttled
// (see clientLog).
func Open(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Client, error) {
	opts, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = DefaultFailureThreshold
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = DefaultProbeInterval
	}
	opts.DialTimeout = cfg.Timeout
	opts.ReadTimeout = cfg.Timeout
	opts.WriteTimeout = cfg.Timeout
	opts.PoolTimeout = cfg.Timeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1 // a retry would double the time a request waits; the caller has a fallback
	opts.DialerRetries = 1
	opts.PoolSize = cfg.PoolSize
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	goredis.SetLogger(newClientLog(logger, clientLogInterval)) // process-wide: the last Open's logger
	c := &Client{
		rdb:     goredis.NewUniversalClient(opts),
		timeout: cfg.Timeout,
		logger:  logger,
		denied:  newDeniedLog(logger, deniedLogInterval),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nearby_redis_errors_total",
			Help: "Redis calls that failed for lack of Redis (timeouts, connection errors), by operation.",
		}, []string{"op"}),
		shortCircuits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nearby_redis_short_circuits_total",
			Help: "Redis calls not attempted because the circuit was open.",
		}),
	}
	pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	c.br = newBreaker(cfg.FailureThreshold, cfg.ProbeInterval, c.ping, logger, pctx)
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "nearby_redis_up",
		Help: "1 while Redis is used, 0 while the circuit is open and the service runs degraded without it.",
	}, func() float64 {
		if c.br.isOpen() {
			return 0
		}
		return 1
	})
	if err := reg.Register(c.errors); err != nil {
		stop()
		c.rdb.Close()
		return nil, err
	}
	reg.MustRegister(c.shortCircuits, up)
	if err := c.ping(ctx); err != nil {
		c.br.trip(fmt.Errorf("first ping: %w", err))
	}
	return c, nil
}

// Close stops the probe and closes the connections. Calls after it, or
// in flight when it came, fail without counting against Redis (no error
// counted, no circuit opened: nothing is wrong with Redis). Closing again
// does nothing.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.stop()
		c.br.wait()
		c.closeErr = c.rdb.Close()
	})
	return c.closeErr
}

// Available reports whether the circuit is closed (Redis is being used).
func (c *Client) Available() bool { return !c.br.isOpen() }

// Universal returns the underlying go-redis client, for tests and tools.
func (c *Client) Universal() goredis.UniversalClient { return c.rdb }

func (c *Client) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.rdb.Ping(ctx).Err()
}

// call runs fn with the timeout, through the breaker.
func (c *Client) call(ctx context.Context, op string, fn func(context.Context) error) error {
	if c.br.isOpen() {
		c.shortCircuits.Inc()
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	err := fn(cctx)
	cancel()
	switch {
	case err == nil, errors.Is(err, goredis.Nil):
		c.br.success()
		return err
	case ctx.Err() != nil:
		return err // the caller gave up: not Redis's failure
	case c.closed.Load() || errors.Is(err, goredis.ErrClosed):
		return fmt.Errorf("redis %s: %w", op, err) // we closed the client: not Redis's failure
	case unavailable(err):
		c.errors.WithLabelValues(op).Inc()
		c.br.failure(err)
	case refused(err):
		// The ACL forbids this call but Redis serves (PING passes, so an
		// open circuit would close at the first probe): not an outage. The
		// caller's fallback hides it, so say what to fix.
		c.denied.log(ctx, op, err)
	case outOfMemory(err):
		// maxmemory reached under the noeviction policy: reads and PING
		// still work (not an outage, the circuit would flap), but every
		// cache fill and owners' refresh fails, hidden by the fallbacks.
		c.denied.oom(ctx, op, err)
	}
	return fmt.Errorf("redis %s: %w", op, err)
}

// unavailable reports whether err says Redis cannot serve now, as opposed
// to refusing one command (a script error, a wrong type).
func unavailable(err error) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return true // network errors, timeouts, closed pools
	}
	// Refused credentials (NOAUTH, WRONGPASS: a wrong password in the URL,
	// a password set or changed on the server) refuse every call until the
	// configuration is fixed: Redis cannot serve us, as if it were down.
	if goredis.IsAuthError(err) {
		return true
	}
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "BUSY", "TRYAGAIN"} {
		if goredis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// refused reports whether err is Redis's ACL refusing a call: NOPERM for a
// command or a key, or, from a script, the refusal of a command the script
// runs (Redis 7.0 reports that as an ERR with this text).
func refused(err error) bool {
	return goredis.IsPermissionError(err) ||
		goredis.HasErrorPrefix(err, "The user executing the script can't run this command")
}

// outOfMemory reports whether err is Redis refusing a write for lack of
// memory (maxmemory reached and nothing it may evict: the noeviction
// policy, Redis's default).
func outOfMemory(err error) bool { return goredis.HasErrorPrefix(err, "OOM") }

// Get returns the value stored under key; ok is false when there is none.
func (c *Client) Get(ctx context.Context, key string) (val []byte, ok bool, err error) {
	err = c.call(ctx, "get", func(ctx context.Context) error {
		val, err = c.rdb.Get(ctx, key).Bytes()
		return err
	})
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	return val, err == nil, err
}

// Set stores val under key for ttl.
func (c *Client) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return c.call(ctx, "set", func(ctx context.Context) error {
		return c.rdb.Set(ctx, key, val, ttl).Err()
	})
}

// Delete removes key.
func (c *Client) Delete(ctx context.Context, key string) error {
	return c.call(ctx, "del", func(ctx context.Context) error {
		return c.rdb.Del(ctx, key).Err()
	})
}

// setNewer stores ARGV[1] under KEYS[1] for ARGV[2] ms unless the value
// there has a version at least as new. Versioned values start with their
// version in decimal and a colon.
var setNewer = goredis.NewScript(`
local new = tonumber(string.match(ARGV[1], '^(%d+):'))
if not new then return redis.error_reply('value has no version') end
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '^(%d+):'))
  if v and v >= new then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// SetNewer stores val under key for ttl unless key holds a value whose
// version is at least val's. A versioned value starts with its version, a
// decimal integer in [0, 2^63), and a colon. It reports whether val was
// stored. The comparison is done by Redis, atomically, so a writer holding
// stale data cannot overwrite fresher data written meanwhile.
func (c *Client) SetNewer(ctx context.Context, key string, val []byte, ttl time.Duration) (stored bool, err error) {
	err = c.call(ctx, "setnewer", func(ctx context.Context) error {
		n, err := setNewer.Run(ctx, c.rdb, []string{key}, val, max(1, ttl.Milliseconds())).Int()
		stored = n == 1
		return err
	})
	return stored, err
}

// ParseURL turns a Redis URL (see Config.URL) into go-redis's universal
// options.
func ParseURL(raw string) (*goredis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New("bad redis URL: want redis://[user:password@]host:port[/db][?addr=host:port&master_name=NAME]")
	}
	// Errors do not quote the query or the fragment: they may hold a
	// password. A "#" in one must be escaped (%23), or it would cut it.
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil || u.Fragment != "" {
		return nil, errors.New("bad redis URL query: separate parameters with & and escape %, #, ; and + in values (%25, %23, %3B, %2B)")
	}
	// An "@" and no user info: a password holding an unescaped "/" or "?"
	// ended the host early and left the rest of it in the path or the
	// query. Errors then quote no part of the URL: it may be the password.
	quote := strconv.Quote
	if u.User == nil && strings.Contains(raw, "@") {
		quote = func(string) string {
			return "(not shown: an @ outside the user info; escape / ? # in a password as %2F %3F %23)"
		}
	}
	o := &goredis.UniversalOptions{Protocol: 2}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "6379"
	}
	o.Addrs = []string{net.JoinHostPort(host, port)}
	if !validAddr(o.Addrs[0]) {
		return nil, fmt.Errorf("bad redis URL host %s: want host:port", quote(u.Host))
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("bad redis URL scheme %q: want redis or rediss", u.Scheme)
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if o.DB, err = strconv.Atoi(p); err != nil || o.DB < 0 {
			return nil, fmt.Errorf("bad redis database number %s", quote(p))
		}
	}
	for name, vals := range query {
		switch name {
		case "addr":
			for _, addr := range vals {
				if !validAddr(addr) {
					return nil, fmt.Errorf("bad redis URL parameter addr=%s: want host:port", quote(addr))
				}
			}
			o.Addrs = append(o.Addrs, vals...)
		case "master_name":
			o.MasterName = vals[len(vals)-1]
		case "sentinel_username":
			o.SentinelUsername = vals[len(vals)-1]
		case "sentinel_password":
			o.SentinelPassword = vals[len(vals)-1]
		case "cluster":
			if o.IsClusterMode, err = strconv.ParseBool(vals[len(vals)-1]); err != nil {
				return nil, fmt.Errorf("bad redis URL parameter cluster=%s", quote(vals[len(vals)-1]))
			}
		default:
			return nil, fmt.Errorf("unknown redis URL parameter %s (known: addr, master_name, sentinel_username, sentinel_password, cluster)", quote(name))
		}
	}
	if o.DB != 0 && o.MasterName == "" && (len(o.Addrs) > 1 || o.IsClusterMode) {
		return nil, errors.New("a Redis Cluster has only database 0")
	}
	return o, nil
}

// validAddr reports whether addr is host:port with a host and a port in
// [1, 65535].
func validAddr(addr string) bool {
	h, p, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(p)
	return err == nil && h != "" && perr == nil && n >= 1 && n <= 65535
}

// Redact hides the passwords of a Redis URL, for logs. A query that does
// not parse, or a fragment (an unescaped "#" in a password), is hidden
// whole: where a password in it ends cannot be told. So is everything
// after the scheme when an "@" stands outside the user info (an unescaped
// "/" or "?" in a password).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User == nil && strings.Contains(raw, "@") {
		// A password holding an unescaped "/" or "?" ended the host
		// early: the rest of it is in the path or the query.
		return u.Scheme + "://(hidden: an @ outside the user info)"
	}
	q, err := url.ParseQuery(u.RawQuery)
	switch {
	case err != nil || u.Fragment != "":
		u.RawQuery, u.Fragment, u.RawFragment = "xxxxx", "", ""
	case q.Has("sentinel_password"):
		q.Set("sentinel_password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
