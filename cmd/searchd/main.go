// Command searchd serves nearby search over HTTP from in-memory quadtrees.
//
// With no configuration it generates a realistic demo dataset around real
// cities and serves it; with --seeds DIR it serves the seeds named by DIR's
// manifest and reloads them when the manifest changes; with --db too, it
// follows the database's changes between seeds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // opening hours need the zone database, present or not on the host

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/nearby/nearby/api"
	"github.com/nearby/nearby/internal/cluster"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/httpx"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/seeds"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once instead of waiting for the drain
	}()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the usage is printed
		}
		fmt.Fprintln(os.Stderr, "searchd:", err)
		os.Exit(1)
	}
}

// config is searchd's configuration: flags, each defaulting to an
// environment variable, then to a built-in value.
type config struct {
	Addr           string
	Seeds          string
	ReloadInterval time.Duration
	DemoSize       int
	DemoSeed       uint64
	LogLevel       slog.Level
	Cluster        string        // cluster map file
	Node           string        // this node's name in the cluster map
	Regions        []string      // regions to load; empty: the cluster map's, else all
	Tier           tierConfig    // Redis, details from the replica, caches, rate limits (tier.go)
	Follow         bool          // apply the replica's live changes on top of the seeds
	FollowInterval time.Duration // how often the change feed is read
	MaxLive        int           // the most live changes held before following pauses
}

// maxDemoSize bounds --demo-size: five times the design's whole world on
// one node (200M businesses), far more than a demo needs, and below 2^32,
// which the demo's index version relies on (loadDemo).
const maxDemoSize = 1_000_000_000

func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("searchd", flag.ContinueOnError)
	fs.SetOutput(out)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var c config
	var reload, demoSize, demoSeed, level string
	fs.StringVar(&c.Addr, "addr", env("NEARBY_ADDR", ":8080"), "listen address (env NEARBY_ADDR)")
	fs.StringVar(&c.Seeds, "seeds", env("NEARBY_SEEDS", ""), "seed directory to serve; empty serves the embedded demo data (env NEARBY_SEEDS)")
	fs.StringVar(&reload, "reload-interval", env("NEARBY_RELOAD_INTERVAL", "2s"), "how often to check the seed manifest for changes (env NEARBY_RELOAD_INTERVAL)")
	fs.StringVar(&demoSize, "demo-size", env("NEARBY_DEMO_SIZE", "1000000"), "businesses in the embedded demo data, 1 to "+strconv.Itoa(maxDemoSize)+" (env NEARBY_DEMO_SIZE)")
	fs.StringVar(&demoSeed, "demo-seed", env("NEARBY_DEMO_SEED", "1"), "random seed of the embedded demo data, 0 to 4294967295 (env NEARBY_DEMO_SEED)")
	fs.StringVar(&level, "log-level", env("NEARBY_LOG_LEVEL", "info"), "debug, info, warn or error (env NEARBY_LOG_LEVEL)")
	fs.StringVar(&c.Cluster, "cluster", env("NEARBY_CLUSTER", ""), "cluster map file (JSON: nodes and the regions each holds); regions held elsewhere are asked of other nodes (env NEARBY_CLUSTER)")
	fs.StringVar(&c.Node, "node", env("NEARBY_NODE", ""), "this node's name in the cluster map (env NEARBY_NODE)")
	var regions string
	fs.StringVar(&regions, "regions", env("NEARBY_REGIONS", ""), "comma-separated regions to load from --seeds; default: this node's regions in the cluster map, else all (env NEARBY_REGIONS)")
	var follow, followInterval, maxLive string
	fs.StringVar(&follow, "follow", env("NEARBY_FOLLOW", "true"), "with --seeds and --db, apply the database's changes to the index within a second instead of waiting for the next seed (env NEARBY_FOLLOW)")
	fs.StringVar(&followInterval, "follow-interval", env("NEARBY_FOLLOW_INTERVAL", "250ms"), "how often the change feed is read (env NEARBY_FOLLOW_INTERVAL)")
	fs.StringVar(&maxLive, "max-live-changes", env("NEARBY_MAX_LIVE_CHANGES", "1000000"), "the most businesses changed since the seeds held in memory; beyond, following pauses until the next seed (env NEARBY_MAX_LIVE_CHANGES)")
	checkTier := c.Tier.flags(fs, env)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := checkTier(); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var err error
	if c.ReloadInterval, err = time.ParseDuration(reload); err != nil || c.ReloadInterval <= 0 {
		return c, fmt.Errorf("bad reload interval %q", reload)
	}
	// An empty demo would serve an index that finds nothing, and a huge one
	// would run out of memory after listening: refuse both at start.
	if c.DemoSize, err = strconv.Atoi(demoSize); err != nil || c.DemoSize < 1 || c.DemoSize > maxDemoSize {
		return c, fmt.Errorf("bad demo size %q: want 1 to %d businesses", demoSize, maxDemoSize)
	}
	// The demo's index version packs seed and size (loadDemo): larger seeds
	// would share versions, and so cursors, over different data.
	if c.DemoSeed, err = strconv.ParseUint(demoSeed, 10, 32); err != nil {
		return c, fmt.Errorf("bad demo seed %q: want 0 to %d", demoSeed, uint32(math.MaxUint32))
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("bad log level %q", level)
	}
	if c.Follow, err = strconv.ParseBool(follow); err != nil {
		return c, fmt.Errorf("bad --follow %q: want true or false", follow)
	}
	if c.FollowInterval, err = time.ParseDuration(followInterval); err != nil || c.FollowInterval <= 0 {
		return c, fmt.Errorf("bad --follow-interval %q", followInterval)
	}
	if c.MaxLive, err = strconv.Atoi(maxLive); err != nil || c.MaxLive < 1 {
		return c, fmt.Errorf("bad --max-live-changes %q", maxLive)
	}
	c.Follow = c.Follow && c.Seeds != "" && c.Tier.DB != ""
	if regions != "" {
		for _, r := range strings.Split(regions, ",") {
			r = strings.TrimSpace(r)
			if !seeds.ValidRegion(r) {
				return c, fmt.Errorf("bad --regions %q: region name %q", regions, r)
			}
			c.Regions = append(c.Regions, r)
		}
	}
	if (c.Cluster != "" || len(c.Regions) > 0) && c.Seeds == "" {
		return c, errors.New("--cluster and --regions need --seeds")
	}
	if c.Cluster != "" && c.Node == "" {
		return c, errors.New("--cluster needs --node")
	}
	// Without a map the name would be ignored and every region loaded.
	if c.Node != "" && c.Cluster == "" {
		return c, errors.New("--node needs --cluster")
	}
	return c, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	logger.Info("config", "addr", cfg.Addr, "seeds", cfg.Seeds, "reload_interval", cfg.ReloadInterval.String(),
		"demo_size", cfg.DemoSize, "demo_seed", cfg.DemoSeed, "log_level", cfg.LogLevel.String(),
		"cluster", cfg.Cluster, "node", cfg.Node, "regions", cfg.Regions,
		"follow", cfg.Follow, "follow_interval", cfg.FollowInterval.String(), "max_live_changes", cfg.MaxLive)

	// Read the cluster map before connecting or listening, so a bad one
	// fails the start at once and holds nothing.
	var clusterMap *cluster.Map
	var clusterStamp fileStamp // of the map read, stamped before reading it: a change while reading is seen
	if cfg.Cluster != "" {
		clusterStamp = stampOf(cfg.Cluster)
		if clusterMap, err = cluster.ReadMap(cfg.Cluster); err != nil {
			return fmt.Errorf("--cluster: %w", err)
		}
		if _, ok := clusterMap.Nodes[cfg.Node]; !ok {
			return fmt.Errorf("--node: %q is not in the cluster map %s", cfg.Node, cfg.Cluster)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	engine := &search.Engine{}
	tier, err := buildTier(ctx, cfg.Tier, engine, logger, reg)
	if err != nil {
		return err
	}
	defer tier.close()
	handler := httpapi.NewServer(tier.svc, logger, reg, reg, api.OpenAPI, tier.opts...)

	// Listen before loading, so a bad address fails at once and /healthz
	// answers while the index loads (/readyz says 503 until it is in).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	url := httpx.BrowseURL(ln.Addr())
	logger.Info("listening", "addr", ln.Addr().String(), "url", url)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loadErr := make(chan error, 1)
	if cfg.Seeds != "" {
		w := search.NewWatcher(cfg.Seeds, engine, cfg.ReloadInterval, logger, reg)
		regions := cfg.Regions
		if clusterMap != nil {
			if len(regions) == 0 {
				regions = clusterMap.RegionsOf(cfg.Node)
			}
			client := cluster.NewClient(clusterMap, cfg.Node, logger, reg)
			engine.Shards = client
			go client.Probe(ctx, 500*time.Millisecond)
			own := cfg.Node // the node's regions come from the map: watch them
			if len(cfg.Regions) > 0 {
				own = ""
			}
			go watchClusterMap(ctx, cfg.Cluster, clusterStamp, client, own, regions, cfg.ReloadInterval, logger)
		}
		// A node the cluster map gives no region holds none and asks the
		// others for all: loading every region is for a node without one.
		if len(regions) > 0 || clusterMap != nil {
			w.Want = func(r string) bool { return slices.Contains(regions, r) }
		}
		install := func(ix *search.Index, _ seeds.Manifest) { engine.Swap(ix) }
		if cfg.Follow {
			f := search.NewFollower(engine, tier.feed, postgres.FeedSlack, cfg.MaxLive, logger, reg)
			install = f.Install
			go f.Run(ctx, cfg.FollowInterval)
		}
		w.Install = func(ix *search.Index, m seeds.Manifest) {
			warnMissingRegions(logger, regions, m)
			install(ix, m)
		}
		go func() {
			// In the background, like the demo's load, so /healthz answers
			// (and /readyz says 503) while the seeds load.
			w.Reload() // errors are logged; the watcher keeps trying
			w.Run(ctx)
		}()
	} else {
		go func() {
			if err := loadDemo(engine, cfg, logger, url); err != nil {
				loadErr <- err
			}
		}()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case err := <-loadErr:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, done := context.WithTimeout(context.Background(), 15*time.Second)
	defer done()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// warnMissingRegions warns when the manifest m lacks regions this node is
// to hold (from --regions or the cluster map): the node then holds none of
// them, yet is ready with the others, so a misspelt or retired region
// would otherwise go unnoticed. Each load of such a manifest warns again.
func warnMissingRegions(logger *slog.Logger, wanted []string, m seeds.Manifest) {
	has := make([]string, len(m.Regions))
	for i, r := range m.Regions {
		has[i] = r.Name
	}
	var missing []string
	for _, r := range wanted {
		if !slices.Contains(has, r) && !slices.Contains(missing, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		logger.Warn("regions to hold are not in the seed manifest; this node holds none of them",
			"missing_regions", missing, "manifest_regions", has, "generation", m.Generation)
	}
}

// fileStamp tells whether a file changed: its modification time and size.
type fileStamp struct {
	modTime time.Time
	size    int64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size()}
}

// watchClusterMap re-reads the cluster map when its file changes from
// last, so replicas can be added or moved without restarts. Any other stamp
// is a change, not only a newer time: a map rolled back with mv or cp -p
// keeps its older time. A node's own regions are read at start: when node
// is not "", a map giving it others than held, the regions it loaded from
// the map, is warned about, since the peers now ask it for regions it does
// not hold (or no longer ask) until it restarts.
func watchClusterMap(ctx context.Context, path string, last fileStamp, client *cluster.Client, node string, held []string, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := stampOf(path)
		if st == (fileStamp{}) || st.modTime.Equal(last.modTime) && st.size == last.size {
			continue
		}
		last = st
		m, err := cluster.ReadMap(path)
		if err != nil {
			logger.Error("cluster map reload refused; keeping the current map", "err", err)
			continue
		}
		client.SetMap(m)
		logger.Info("cluster map reloaded", "path", path)
		if rs := m.RegionsOf(node); node != "" && !slices.Equal(rs, held) {
			logger.Warn("the cluster map gives this node other regions than it holds; a node's regions are read at start: restart it to hold the map's",
				"node", node, "holds", held, "map_regions", rs)
		}
	}
}

// loadDemo generates the embedded demo dataset, indexes it and swaps it in.
func loadDemo(engine *search.Engine, cfg config, logger *slog.Logger, url string) error {
	start := time.Now()
	bs := dataset.Generate(cfg.DemoSize, cfg.DemoSeed)
	// The demo data depends only on its size and seed, so its version does
	// too: replicas started alike serve the same version and share cursors.
	region, err := search.BuildRegion("world", cfg.DemoSeed<<32|uint64(cfg.DemoSize), bs)
	if err != nil {
		return err
	}
	engine.Swap(search.NewIndex(region))
	debug.FreeOSMemory() // hand the generator's garbage back to the OS
	example := url + "/v1/search/nearby?lat=40.7580&lon=-73.9855&radius=2000&limit=20&category=cafe"
	logger.Info("ready: serving demo data generated around real cities (GeoNames, CC BY 4.0)",
		"businesses", region.Tree.Len(), "took", time.Since(start).Round(time.Millisecond).String(),
		"try", "curl '"+example+"'")
	return nil
}
