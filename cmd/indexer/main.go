// Command indexer builds per-region quadtrees of businesses and publishes
// them as seeds for searchd.
//
//	indexer build --db URL --out DIR [--regions FILE]
//	indexer build --from-csv FILE --out DIR [--regions FILE]
//	indexer run --db URL --out DIR [--every 1h] [--admin-addr :8082]
//
// Every flag defaults to an environment variable (see the usage text and
// docs/INDEXER.md).
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
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // opening hours name IANA zones; the host may lack a tz database

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nearby/nearby/internal/httpx"
	"github.com/nearby/nearby/internal/indexer"
	"github.com/nearby/nearby/internal/postgres"
)

func main() {
	// The heap of a build is pointer-free columns, so a collection costs
	// little: collecting more often (GOGC=25 rather than 100) keeps the
	// peak resident memory near the live data, at no measurable cost in
	// build time. GOGC in the environment overrides it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the usage is printed
		}
		fmt.Fprintln(os.Stderr, "indexer:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  indexer build --db URL --out DIR [--regions FILE] [flags]
  indexer build --from-csv FILE --out DIR [--regions FILE]
  indexer run --db URL --out DIR [--every 1h] [--admin-addr :8082] [flags]

build reads every live business once, from a PostgreSQL read replica
(--db) or a CSV file (--from-csv; header id,name,category,lat,lon, optional
price,rating,review_count,hours, other columns ignored), partitions them into regions, builds one quadtree per
region, writes its seed and publishes a new manifest in DIR atomically;
searchd --seeds DIR picks it up without a restart. A failed build publishes
nothing: the previous manifest and its seeds stay in force.

run builds at start and then every --every, serving /metrics and /healthz
on --admin-addr. Indexers publishing to the same DIR elect one leader with a
PostgreSQL advisory lock (on --lock-db, default --db); the others stand by
and take over when it stops. A failed build is logged, counted and retried
after min(--every, 1m).

Flags (each defaults to the environment variable named):
  --db URL            PostgreSQL DSN to read, normally a read replica
                      (env NEARBY_DB_REPLICA, else NEARBY_DB); --db-replica is an alias
  --out DIR           seed directory to publish to, created if missing (env NEARBY_SEEDS)
  --regions FILE      JSON file {"regions": [{"name", "min_lat", "min_lon", "max_lat", "max_lon"}]};
                      empty: the built-in world split (env NEARBY_REGIONS)
  --from-csv FILE     build only: read a CSV file instead of the database
  --every D           run only: interval between builds (env NEARBY_EVERY, default 1h)
  --admin-addr ADDR   run only: listen address of /metrics and /healthz (env NEARBY_ADMIN_ADDR, default :8082)
  --lock-db URL       DSN of the server holding the advisory lock; indexers that must
                      exclude each other need the same server (env NEARBY_LOCK_DB, default --db)
  --lock-name NAME    what the lock key is derived from (env NEARBY_LOCK_NAME,
                      default "nearby-indexer:" + the absolute --out path)
  --timeout D         bound on one build; 0 for none (env NEARBY_BUILD_TIMEOUT, default 1h)
  --progress-every D  interval of progress log lines while reading; 0 for none
                      (env NEARBY_PROGRESS_EVERY, default 10s); a bar is drawn too
                      when stdout is a terminal
  --log-level L       debug, info, warn or error (env NEARBY_LOG_LEVEL, default info)

Logs are JSON lines on stdout.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "build", "run":
		cfg, err := parseConfig(args[0], args[1:], getenv, stdout)
		if err != nil {
			return err
		}
		if args[0] == "build" {
			return build(ctx, cfg, stdout)
		}
		return schedule(ctx, cfg, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// config is the configuration of build and run: flags, each defaulting to
// an environment variable, then to a built-in value.
type config struct {
	Command       string
	DB            string
	FromCSV       string
	Out           string
	RegionsFile   string
	Regions       indexer.Regions
	Every         time.Duration
	AdminAddr     string
	LockDB        string
	LockName      string
	Timeout       time.Duration
	ProgressEvery time.Duration
	LogLevel      slog.Level
}

func parseConfig(command string, args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("indexer "+command, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { fmt.Fprintln(out, usage) }
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{Command: command}
	var every, timeout, progressEvery, level string
	dbDefault := env("NEARBY_DB_REPLICA", getenv("NEARBY_DB"))
	fs.StringVar(&c.DB, "db", dbDefault, "PostgreSQL DSN to read, normally a read replica (env NEARBY_DB_REPLICA, else NEARBY_DB)")
	fs.StringVar(&c.DB, "db-replica", dbDefault, "alias of --db")
	fs.StringVar(&c.Out, "out", getenv("NEARBY_SEEDS"), "seed directory to publish to (env NEARBY_SEEDS)")
	fs.StringVar(&c.RegionsFile, "regions", getenv("NEARBY_REGIONS"), "JSON file of regions; empty uses the built-in world split (env NEARBY_REGIONS)")
	fs.StringVar(&c.FromCSV, "from-csv", "", "build only: CSV file of businesses to index instead of the database")
	fs.StringVar(&every, "every", env("NEARBY_EVERY", "1h"), "run only: interval between builds (env NEARBY_EVERY)")
	fs.StringVar(&c.AdminAddr, "admin-addr", env("NEARBY_ADMIN_ADDR", ":8082"), "run only: listen address of /metrics and /healthz (env NEARBY_ADMIN_ADDR)")
	fs.StringVar(&c.LockDB, "lock-db", getenv("NEARBY_LOCK_DB"), "DSN of the server holding the advisory lock; default --db (env NEARBY_LOCK_DB)")
	fs.StringVar(&c.LockName, "lock-name", getenv("NEARBY_LOCK_NAME"), "name the lock key derives from; default from the absolute --out path (env NEARBY_LOCK_NAME)")
	fs.StringVar(&timeout, "timeout", env("NEARBY_BUILD_TIMEOUT", "1h"), "bound on one build, 0 for none (env NEARBY_BUILD_TIMEOUT)")
	fs.StringVar(&progressEvery, "progress-every", env("NEARBY_PROGRESS_EVERY", "10s"), "interval of progress log lines, 0 for none (env NEARBY_PROGRESS_EVERY)")
	fs.StringVar(&level, "log-level", env("NEARBY_LOG_LEVEL", "info"), "debug, info, warn or error (env NEARBY_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var err error
	switch {
	case c.Out == "":
		return c, errors.New("no seed directory: set --out or NEARBY_SEEDS")
	case command == "build" && c.FromCSV != "" && c.DB != "" && isFlagSet(fs, "db", "db-replica"):
		return c, errors.New("build reads --db or --from-csv, not both")
	case command == "build" && c.FromCSV == "" && c.DB == "":
		return c, errors.New("build needs --db URL (a read replica) or --from-csv FILE")
	case command == "run" && c.FromCSV != "":
		return c, errors.New("run reads the database; --from-csv is for build")
	case command == "run" && c.DB == "":
		return c, errors.New("no database: set --db or NEARBY_DB")
	}
	if c.FromCSV != "" {
		c.DB = "" // from the environment only: the CSV file was asked for
	}
	// --every is run's: a one-off build ignores NEARBY_EVERY, which an
	// environment shared with run may set to anything run accepts or not.
	if command == "run" || isFlagSet(fs, "every") {
		if c.Every, err = time.ParseDuration(every); err != nil || c.Every < 10*time.Millisecond {
			return c, fmt.Errorf("bad --every %q: want a duration of at least 10ms, e.g. 1h", every)
		}
	}
	if c.Timeout, err = time.ParseDuration(timeout); err != nil || c.Timeout < 0 {
		return c, fmt.Errorf("bad --timeout %q: want a duration, 0 for none", timeout)
	}
	if c.ProgressEvery, err = time.ParseDuration(progressEvery); err != nil || c.ProgressEvery < 0 {
		return c, fmt.Errorf("bad --progress-every %q: want a duration, 0 for none", progressEvery)
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("bad --log-level %q: want debug, info, warn or error", level)
	}
	if c.LockDB == "" {
		c.LockDB = c.DB
	}
	if c.LockName == "" {
		abs, err := filepath.Abs(c.Out)
		if err != nil {
			return c, err
		}
		c.LockName = "nearby-indexer:" + abs
	}
	if c.RegionsFile != "" {
		c.Regions, err = indexer.ReadRegions(c.RegionsFile)
	} else {
		c.Regions, err = indexer.NewRegions(indexer.DefaultRegions)
	}
	return c, err
}

// isFlagSet reports whether any of the named flags was given on the
// command line (not just defaulted from the environment).
func isFlagSet(fs *flag.FlagSet, names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			set = set || f.Name == n
		}
	})
	return set
}

// newLogger returns the JSON logger on stdout, and the terminal it shares
// with a progress bar when stdout is one.
func newLogger(cfg config, stdout io.Writer) (*slog.Logger, *indexer.Terminal) {
	var term *indexer.Terminal
	w := stdout
	if f, ok := stdout.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			term = indexer.NewTerminal(f)
			w = term
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel})), term
}

func logConfig(logger *slog.Logger, cfg config) {
	names := make([]string, len(cfg.Regions))
	for i, r := range cfg.Regions {
		names[i] = r.Name
	}
	attrs := []any{"command", cfg.Command, "out", cfg.Out, "regions_file", cfg.RegionsFile, "regions", names,
		"timeout", cfg.Timeout.String(), "progress_every", cfg.ProgressEvery.String(), "log_level", cfg.LogLevel.String()}
	if cfg.FromCSV != "" {
		attrs = append(attrs, "from_csv", cfg.FromCSV)
	} else {
		attrs = append(attrs, "db", postgres.Redact(cfg.DB), "lock_db", postgres.Redact(cfg.LockDB), "lock_name", cfg.LockName)
	}
	if cfg.Command == "run" {
		attrs = append(attrs, "every", cfg.Every.String(), "admin_addr", cfg.AdminAddr)
	}
	logger.Info("config", attrs...)
}

// builder runs builds from the database (or a CSV file) with cfg.
type builder struct {
	cfg     config
	logger  *slog.Logger
	term    *indexer.Terminal
	metrics *indexer.Metrics
	svc     *postgres.BusinessService // nil for CSV
}

// once runs one build; beforePublish, if not nil, may stop the publish.
func (b *builder) once(ctx context.Context, beforePublish func(context.Context) error) (indexer.Result, error) {
	if b.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.Timeout)
		defer cancel()
	}
	progressEvery := b.cfg.ProgressEvery
	if progressEvery == 0 {
		progressEvery = -1 // none
	}
	bc := indexer.Config{
		Dir: b.cfg.Out, Regions: b.cfg.Regions, Logger: b.logger, Metrics: b.metrics,
		ProgressEvery: progressEvery, Terminal: b.term, BeforePublish: beforePublish,
	}
	src := indexer.CSVSource(b.cfg.FromCSV)
	if b.svc != nil {
		src = b.svc.CopyLive
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := b.svc.EstimateLive(ectx)
		cancel()
		if err == nil {
			bc.Expected = n
		}
	}
	b.logger.Info("build started", "expected", bc.Expected)
	res, err := indexer.Build(ctx, bc, src)
	if err != nil {
		return res, fmt.Errorf("build failed after %d rows (nothing published): %w", res.Rows, err)
	}
	total := 0
	for _, r := range res.Manifest.Regions {
		total += r.Count
	}
	attrs := []any{"dir", b.cfg.Out, "generation", res.Manifest.Generation, "businesses", total,
		"rows", res.Rows, "skipped", res.Skipped, "read_s", res.ReadTook.Seconds(), "took_s", res.Took.Seconds(),
		"rows_per_s", int64(float64(res.Rows) / max(res.Took.Seconds(), 1e-9))}
	if !res.Watermark.IsZero() {
		attrs = append(attrs, "watermark", res.Watermark)
	}
	b.logger.Info("published", attrs...)
	return res, nil
}

func openDB(ctx context.Context, dsn string) (*postgres.DB, error) {
	// The indexer reads only the DSN it is given: it is both "primary"
	// and "replica" to the pool, which never writes.
	return postgres.Open(ctx, postgres.Config{Primary: dsn, Replica: dsn, MaxConns: 2})
}

// checkDSNs refuses a --db or --lock-db that does not parse, naming the
// flag. The lock's DSN is otherwise first read at the first attempt to
// lead, where run would take it for a server that is down and retry it
// forever.
func checkDSNs(cfg config) error {
	for _, f := range []struct{ name, dsn string }{{"--db", cfg.DB}, {"--lock-db", cfg.LockDB}} {
		if err := postgres.CheckDSN(f.dsn); err != nil {
			return fmt.Errorf("bad %s: %w", f.name, err)
		}
	}
	return nil
}

// releaseTimeout bounds giving the advisory lock up at the end of a
// one-off build: one round trip.
const releaseTimeout = 2 * time.Second

func build(ctx context.Context, cfg config, stdout io.Writer) error {
	logger, term := newLogger(cfg, stdout)
	logConfig(logger, cfg)
	b := &builder{cfg: cfg, logger: logger, term: term}
	if cfg.FromCSV != "" {
		_, err := b.once(ctx, nil)
		return err
	}
	if err := checkDSNs(cfg); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	b.svc = postgres.NewBusinessService(db)
	// A one-off build must not publish over a running indexer's.
	lock := postgres.NewAdvisoryLock(cfg.LockDB, postgres.LockKey(cfg.LockName))
	defer func() {
		// Bounded, as the scheduler's: a lock server gone dark would
		// otherwise hold the exit for as long as the kernel keeps the
		// connection, deaf to SIGTERM. The lock ends with the session
		// anyway.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		lock.Release(rctx)
	}()
	ok, err := lock.Lead(ctx)
	if err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	if !ok {
		return fmt.Errorf("another indexer holds the lock of %q: stop it, or wait for its build", cfg.LockName)
	}
	_, err = b.once(ctx, func(ctx context.Context) error {
		if ok, err := lock.Lead(ctx); err != nil || !ok {
			return errors.Join(indexer.ErrNotLeader, err)
		}
		return nil
	})
	return err
}

func schedule(ctx context.Context, cfg config, stdout io.Writer) error {
	logger, term := newLogger(cfg, stdout)
	logConfig(logger, cfg)
	if err := checkDSNs(cfg); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := indexer.NewMetrics(reg)

	ln, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", httpx.BrowseURL(ln.Addr()))
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	db, err := openDB(ctx, cfg.DB)
	if err != nil {
		srv.Close()
		return err
	}
	defer db.Close()
	b := &builder{cfg: cfg, logger: logger, term: term, metrics: metrics, svc: postgres.NewBusinessService(db)}
	s := &indexer.Scheduler{
		Every:   cfg.Every,
		Leader:  postgres.NewAdvisoryLock(cfg.LockDB, postgres.LockKey(cfg.LockName)),
		Logger:  logger,
		Metrics: metrics,
	}
	s.Build = func(ctx context.Context) error {
		_, err := b.once(ctx, s.StillLeads)
		return err
	}
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	schedErr := make(chan error, 1)
	go func() { schedErr <- s.Run(schedCtx) }()
	select {
	case err = <-serveErr: // the admin server failed: stop building too
		stopSched()
		return errors.Join(err, <-schedErr)
	case err = <-schedErr:
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}
