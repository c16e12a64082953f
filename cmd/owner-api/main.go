// Command owner-api is the write path of nearby: shop owners create, read,
// update and delete their own businesses over an authenticated HTTP API,
// stored in PostgreSQL.
//
//	owner-api [serve] --addr :8081 --db URL [--db-replica URL] --jwt-secret S
//	owner-api migrate --db URL
//	owner-api token --owner 42 [--ttl 1h] --jwt-secret S
//	owner-api purge --db URL [--older-than 720h] [--keys-older-than 24h]
//
// Every flag defaults to an environment variable (see -h).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // opening hours name IANA zones: load them without /usr/share/zoneinfo

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/api"
	"github.com/nearby/nearby/internal/httpx"
	"github.com/nearby/nearby/internal/ownerapi"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the usage is printed
		}
		fmt.Fprintln(os.Stderr, "owner-api:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  owner-api [serve] [--addr :8081] --db URL [--db-replica URL] --jwt-secret S [flags]
  owner-api migrate --db URL
  owner-api token --owner ID [--ttl 1h] --jwt-secret S
  owner-api purge --db URL [--older-than 720h] [--keys-older-than 24h]
  owner-api import --db URL --from-csv FILE [--owner 1]

serve (the default) serves the owners' HTTP API; migrate applies the
database migrations (idempotent); token prints a bearer token for an owner,
for development; purge removes businesses deleted longer ago than
--older-than, and idempotency keys older than --keys-older-than (below
24h it warns); import bulk-loads a CSV of businesses (id,name,category,lat,lon
and optionally price,rating,review_count,hours) as one owner's.
Run "owner-api COMMAND -h" for a command's flags and environment variables.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout)
	case "migrate":
		return migrate(ctx, args, getenv, stdout)
	case "token":
		return token(args, getenv, stdout)
	case "purge":
		return purge(ctx, args, getenv, stdout)
	case "import":
		return importCSV(ctx, args, getenv, stdout)
	case "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// flags is a flag set whose flags default to environment variables.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
}

func newFlags(name string, getenv func(string) string, out io.Writer) flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return flags{fs, getenv}
}

// env returns the environment variable's value, or def.
func (f flags) env(name, def string) string {
	if v := f.getenv(name); v != "" {
		return v
	}
	return def
}

func (f flags) parse(args []string) error {
	// The usage text shows each flag's default, which may come from the
	// environment: on --help, and on any bad flag into the logs. Secrets
	// stay out of it (the values themselves are unchanged).
	for name, redact := range map[string]func(string) string{
		"db": postgres.Redact, "db-replica": postgres.Redact, "redis": redis.Redact,
		"jwt-secret": func(string) string { return "(set)" },
	} {
		if fl := f.Lookup(name); fl != nil && fl.DefValue != "" {
			fl.DefValue = redact(fl.DefValue)
		}
	}
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", f.Args())
	}
	return nil
}

// Flags shared by several commands.
func (f flags) db(p *string) {
	f.StringVar(p, "db", f.env("NEARBY_DB", ""), "PostgreSQL primary DSN, e.g. postgres://user@host:5432/nearby (env NEARBY_DB)")
}

func (f flags) jwtSecret(p *string) {
	f.StringVar(p, "jwt-secret", f.env("NEARBY_JWT_SECRET", ""), "HS256 secret of bearer tokens; use 32 random bytes or more (env NEARBY_JWT_SECRET)")
}

func (f flags) logLevel(p *string) {
	f.StringVar(p, "log-level", f.env("NEARBY_LOG_LEVEL", "info"), "debug, info, warn or error (env NEARBY_LOG_LEVEL)")
}

// config is serve's configuration: flags, each defaulting to an
// environment variable, then to a built-in value.
type config struct {
	Addr           string
	DB, DBReplica  string
	JWTSecret      string
	DBMaxConns     int
	RequestTimeout time.Duration
	Migrate        bool
	LogLevel       slog.Level
	Tier           tierConfig // Redis: detail cache refresh, rate limits (tier.go)
}

func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	f := newFlags("owner-api serve", getenv, out)
	var c config
	var maxConns, timeout, autoMigrate, level string
	f.StringVar(&c.Addr, "addr", f.env("NEARBY_OWNER_ADDR", ":8081"), "listen address (env NEARBY_OWNER_ADDR)")
	f.db(&c.DB)
	f.StringVar(&c.DBReplica, "db-replica", f.env("NEARBY_DB_REPLICA", ""), "read replica DSN for the read path; empty uses --db (env NEARBY_DB_REPLICA)")
	f.jwtSecret(&c.JWTSecret)
	f.StringVar(&maxConns, "db-max-conns", f.env("NEARBY_DB_MAX_CONNS", "10"), "most connections per database pool (env NEARBY_DB_MAX_CONNS)")
	f.StringVar(&timeout, "request-timeout", f.env("NEARBY_REQUEST_TIMEOUT", "5s"), "bound on a request's database work (env NEARBY_REQUEST_TIMEOUT)")
	f.StringVar(&autoMigrate, "migrate", f.env("NEARBY_AUTO_MIGRATE", "true"), "apply pending database migrations at start (env NEARBY_AUTO_MIGRATE)")
	f.logLevel(&level)
	checkTier := c.Tier.flags(f)
	if err := f.parse(args); err != nil {
		return c, err
	}
	if err := checkTier(); err != nil {
		return c, err
	}
	var err error
	if c.DB == "" {
		return c, errors.New("no database: set --db or NEARBY_DB")
	}
	if c.JWTSecret == "" {
		return c, errors.New("no token secret: set --jwt-secret or NEARBY_JWT_SECRET")
	}
	if c.DBMaxConns, err = strconv.Atoi(maxConns); err != nil || c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		return c, fmt.Errorf("bad --db-max-conns %q: want an integer in [1, 1000]", maxConns)
	}
	if c.RequestTimeout, err = time.ParseDuration(timeout); err != nil || c.RequestTimeout <= 0 {
		return c, fmt.Errorf("bad --request-timeout %q", timeout)
	}
	if c.Migrate, err = strconv.ParseBool(autoMigrate); err != nil {
		return c, fmt.Errorf("bad --migrate %q: want true or false", autoMigrate)
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("bad --log-level %q: want debug, info, warn or error", level)
	}
	return c, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	logger.Info("config", "addr", cfg.Addr, "db", postgres.Redact(cfg.DB), "db_replica", postgres.Redact(cfg.DBReplica),
		"jwt_secret", "[redacted]", "db_max_conns", cfg.DBMaxConns, "request_timeout", cfg.RequestTimeout.String(),
		"migrate", cfg.Migrate, "log_level", cfg.LogLevel.String())
	if len(cfg.JWTSecret) < 32 {
		logger.Warn("the token secret is shorter than 32 bytes: fine for development, weak in production")
	}

	if cfg.Migrate {
		if err := migrateWithRetry(ctx, cfg.DB, logger); err != nil {
			return err
		}
	}
	db, err := postgres.Open(ctx, postgres.Config{Primary: cfg.DB, Replica: cfg.DBReplica, MaxConns: int32(cfg.DBMaxConns)})
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerPoolMetrics(reg, db)
	owners, middleware, closeTier, err := buildTier(ctx, cfg.Tier, postgres.NewBusinessService(db), []byte(cfg.JWTSecret), logger, reg)
	if err != nil {
		return err
	}
	defer closeTier()
	handler := ownerapi.NewServer(ownerapi.Config{
		Service: owners, Secret: []byte(cfg.JWTSecret), Ready: db.Ping, Logger: logger,
		Registerer: reg, Gatherer: reg, OpenAPI: api.OwnerAPI, RequestTimeout: cfg.RequestTimeout,
		Middleware: middleware,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	url := httpx.BrowseURL(ln.Addr())
	logger.Info("listening", "addr", ln.Addr().String(), "url", url)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	// In-flight requests finish (each is bounded by the request timeout);
	// then the pools close.
	shutCtx, done := context.WithTimeout(context.Background(), cfg.RequestTimeout+10*time.Second)
	defer done()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// migrateWithRetry applies migrations, waiting up to a minute for a
// database that is still starting.
func migrateWithRetry(ctx context.Context, dsn string, logger *slog.Logger) error {
	deadline := time.Now().Add(time.Minute)
	for {
		applied, version, err := postgres.Migrate(ctx, dsn, nil)
		if err == nil {
			for _, m := range applied {
				logger.Info("migration applied", "version", m.Version, "source", m.Source, "took", m.Duration.String())
			}
			logger.Info("schema up to date", "version", version)
			return nil
		}
		if nearby.ErrorCode(err) != nearby.EUNAVAILABLE || time.Now().After(deadline) {
			return fmt.Errorf("migrate: %w", err)
		}
		logger.Warn("database not reachable; retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// registerPoolMetrics exports the primary connection pool's state.
func registerPoolMetrics(reg prometheus.Registerer, db *postgres.DB) {
	for _, st := range []struct {
		state string
		get   func(postgres.PoolStats) int32
	}{
		{"acquired", func(s postgres.PoolStats) int32 { return s.Acquired }},
		{"idle", func(s postgres.PoolStats) int32 { return s.Idle }},
		{"total", func(s postgres.PoolStats) int32 { return s.Total }},
	} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "nearby_db_connections", Help: "Connections of the primary pool by state.",
			ConstLabels: prometheus.Labels{"state": st.state},
		}, func() float64 { return float64(st.get(db.Stats())) }))
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "nearby_db_acquires_total", Help: "Connections handed out by the primary pool.",
		}, func() float64 { return float64(db.Stats().Acquires) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "nearby_db_acquire_waits_total", Help: "Acquires that had to wait for a connection of the primary pool.",
		}, func() float64 { return float64(db.Stats().EmptyAcquires) }),
	)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("owner-api migrate", getenv, stdout)
	var dsn string
	f.db(&dsn)
	if err := f.parse(args); err != nil {
		return err
	}
	if dsn == "" {
		return errors.New("no database: set --db or NEARBY_DB")
	}
	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	applied, version, err := postgres.Migrate(ctx, dsn, nil)
	for _, m := range applied {
		logger.Info("migration applied", "version", m.Version, "source", m.Source, "took", m.Duration.String())
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	logger.Info("schema up to date", "version", version, "applied", len(applied))
	return nil
}

func token(args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("owner-api token", getenv, stdout)
	var secret string
	var owner int64
	var ttl time.Duration
	f.Int64Var(&owner, "owner", 0, "owner id, the token's sub claim")
	f.DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	f.jwtSecret(&secret)
	if err := f.parse(args); err != nil {
		return err
	}
	if owner <= 0 {
		return errors.New("token needs --owner ID, a positive integer")
	}
	if secret == "" {
		return errors.New("no token secret: set --jwt-secret or NEARBY_JWT_SECRET")
	}
	tok, err := ownerapi.IssueToken([]byte(secret), owner, ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// minPurgeAge is the least age at which purge removes a soft-deleted
// business without a warning. Once purged, a deletion leaves no trace in
// the change feed, so the row should outlive every seed a searchd may
// still load with the business in it: a node that (re)loads such a seed
// follows the feed from the seed's watermark less postgres.FeedSlack and
// would serve the business until the next seed. The newest seed is up to
// the indexer's --every plus a build (--timeout) old, 2h with the
// defaults, and a publish keeps indexer.KeepSeeds (2) superseded seeds for
// rollback: 6h. Followers that are running need only FeedSlack (5 s) plus
// their poll interval and the replica's lag. A day covers the defaults
// four times over, and an indexer that failed for some hours. Shorter ages
// are the operator's call (tests, a development database): purge warns
// and goes on.
const minPurgeAge = 24 * time.Hour

// minKeyAge is how long api/owner-api.yaml promises idempotency keys are
// kept; purging younger ones warns likewise.
const minKeyAge = 24 * time.Hour

func purge(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newFlags("owner-api purge", getenv, stdout)
	var dsn string
	var olderThan, keysOlderThan time.Duration
	f.db(&dsn)
	f.DurationVar(&olderThan, "older-than", 720*time.Hour,
		"remove businesses deleted longer ago than this (below "+minPurgeAge.String()+" it warns: keep it above the oldest seed a searchd may load)")
	f.DurationVar(&keysOlderThan, "keys-older-than", 24*time.Hour,
		"remove idempotency keys older than this (below "+minKeyAge.String()+", which the API promises, it warns)")
	if err := f.parse(args); err != nil {
		return err
	}
	if dsn == "" {
		return errors.New("no database: set --db or NEARBY_DB")
	}
	if olderThan < 0 || keysOlderThan < 0 {
		return errors.New("durations must not be negative")
	}
	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	if olderThan < minPurgeAge {
		logger.Warn("--older-than is under "+minPurgeAge.String()+": a searchd that loads a seed built before such a deletion serves the business until the next seed, since the purged deletion leaves no trace in the change feed",
			"older_than", olderThan.String())
	}
	if keysOlderThan < minKeyAge {
		logger.Warn("--keys-older-than is under "+minKeyAge.String()+", which api/owner-api.yaml promises for idempotency keys: a retry after it may apply a request twice",
			"keys_older_than", keysOlderThan.String())
	}
	db, err := postgres.Open(ctx, postgres.Config{Primary: dsn})
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	nb, nk, err := postgres.NewBusinessService(db).Purge(ctx, now.Add(-olderThan), now.Add(-keysOlderThan))
	logger.Info("purged", "businesses", nb, "idempotency_keys", nk,
		"deleted_before", now.Add(-olderThan).UTC().Format(time.RFC3339), "keys_before", now.Add(-keysOlderThan).UTC().Format(time.RFC3339))
	return err
}
