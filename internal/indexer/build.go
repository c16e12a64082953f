package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// Source yields every business of one consistent snapshot, in any order,
// and returns the snapshot's watermark: every change committed before it is
// in the stream (zero when unknown). It stops at yield's first error and
// returns it.
type Source func(ctx context.Context, yield func(nearby.Business) error) (watermark time.Time, err error)

// ErrSuperseded says a build did not publish because another build
// published to its directory while it ran: its snapshot may be older than
// the one now in force, which it would replace under the same generation.
// It happens when a leader loses its lock mid-build (its session drops)
// and another indexer, or a one-off build, publishes in the meantime.
var ErrSuperseded = errors.New("another build published while this one ran")

// MaxLoggedSkips is how many skipped businesses a build logs one by one
// (and lists in Result.SkippedIDs); the rest are counted.
const MaxLoggedSkips = 100

// DefaultProgressEvery is the interval of progress log lines.
const DefaultProgressEvery = 10 * time.Second

// Config configures a build.
type Config struct {
	Dir     string  // seed directory, created if missing
	Regions Regions // from NewRegions or ReadRegions
	Logger  *slog.Logger
	Metrics *Metrics // nil records nothing
	// Expected estimates how many businesses the source yields, for the
	// ETA of progress reports; ≤ 0 when unknown.
	Expected int64
	// ProgressEvery is the interval of progress log lines while reading:
	// 0 means DefaultProgressEvery, a negative value none.
	ProgressEvery time.Duration
	// Terminal, if not nil, gets a progress bar while reading.
	Terminal *Terminal
	// BeforePublish, if not nil, runs after every seed is written and
	// before the manifest is: its error cancels the publish. A Scheduler
	// checks there that it still leads.
	BeforePublish func(context.Context) error
}

// Result describes a build.
type Result struct {
	Manifest   seeds.Manifest // the published manifest (zero on error)
	Rows       int64          // businesses the source yielded
	Skipped    int64          // of which skipped as impossible
	SkippedIDs []int64        // the first MaxLoggedSkips skipped
	Watermark  time.Time      // the source's
	ReadTook   time.Duration  // streaming and partitioning
	Took       time.Duration  // the whole build
}

// Build reads every business from src, partitions them into cfg.Regions,
// builds each region's quadtree, writes its seed into cfg.Dir and then
// publishes a manifest naming them all, atomically. Impossible businesses
// are skipped, counted and logged with their ids (see the package rules).
// On error nothing is published: the previous manifest stays in force and
// the seeds this build wrote are removed. The Result's counts are filled
// in as far as the build got.
func Build(ctx context.Context, cfg Config, src Source) (Result, error) {
	start := time.Now()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	var res Result
	if len(cfg.Regions) == 0 {
		return res, errors.New("build: no regions")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return res, fmt.Errorf("seed directory: %w", err)
	}
	prev, err := seeds.ReadManifest(cfg.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, err
	}

	p := newPartition(cfg.Regions, prev, cfg.Metrics, logger)
	prog := startProgress(logger, cfg.Terminal, cfg.Expected, cfg.ProgressEvery, &p.rows)
	res.Watermark, err = src(ctx, p.add)
	prog.stop(err == nil)
	res.Rows, res.Skipped, res.SkippedIDs = p.rows.Load(), p.skipped, p.skippedIDs
	res.ReadTook = time.Since(start)
	if cfg.Metrics != nil {
		cfg.Metrics.rowsRead.Add(float64(res.Rows))
	}
	if err == nil {
		err = ctx.Err() // a source that ignores its context still stops here
	}
	if err != nil {
		return res, fmt.Errorf("read businesses: %w", err)
	}
	if p.skipped > 0 {
		logger.Warn("skipped impossible businesses", "skipped", p.skipped, "rows", res.Rows,
			"first_ids", p.skippedIDs, "reasons", p.reasons)
	}

	m, err := publish(ctx, cfg, p, prev, res.Watermark, logger)
	res.Took = time.Since(start)
	if err != nil {
		return res, err
	}
	res.Manifest = m
	if cfg.Metrics != nil {
		cfg.Metrics.published(m, res)
	}
	return res, nil
}

// partition holds the businesses read so far, one builder and one table
// of opening hours per region.
type partition struct {
	rs         Regions
	builders   []*quadtree.Builder
	hours      []*hours.Table
	rows       atomic.Int64 // read by the progress reporter
	skipped    int64
	skippedIDs []int64
	reasons    map[string]int64
	metrics    *Metrics
	logger     *slog.Logger
}

// maxPresize bounds the entries a builder is sized for from the previous
// manifest, whose counts may be anything up to seeds.MaxEntries (a manifest
// edited by hand, or damaged): sizing for that would reserve tens of
// gigabytes and crash the indexer. A larger region's builder grows as its
// businesses come. 16M is above every region of a 10M-business table.
const maxPresize = 1 << 24

// newPartition makes builders sized for the previous build's regions, with
// a little room to grow, so a steady table is read without regrowing them.
func newPartition(rs Regions, prev seeds.Manifest, metrics *Metrics, logger *slog.Logger) *partition {
	sizes := map[string]int{}
	for _, r := range prev.Regions {
		sizes[r.Name] = r.Count
	}
	p := &partition{rs: rs, builders: make([]*quadtree.Builder, len(rs)), hours: make([]*hours.Table, len(rs)),
		reasons: map[string]int64{}, metrics: metrics, logger: logger}
	for i, r := range rs {
		n := min(sizes[r.Name], maxPresize)
		p.builders[i] = quadtree.NewBuilder(n + n/20)
		p.hours[i] = &hours.Table{}
	}
	return p
}

// add is the Source's yield.
func (p *partition) add(b nearby.Business) error {
	p.rows.Add(1)
	if reason := impossible(b); reason != "" {
		p.skip(b, reason)
		return nil
	}
	r := p.rs.Of(b.Lat, b.Lon)
	a := quadtree.Attrs{Price: uint8(b.Price), Rating: uint8(b.Rating), Tag: p.hours[r].Tag(b.Hours), Reviews: b.ReviewCount}
	return p.builders[r].AddWith(b.ID, b.Lat, b.Lon, uint8(b.Category), b.Name, a)
}

// impossible says why b cannot be indexed, or "".
func impossible(b nearby.Business) string {
	switch {
	case b.ID <= 0: // the API refuses such ids, and so does searchd's live path
		return "id"
	case !geo.Valid(b.Lat, b.Lon): // NaN and ±Inf too
		return "coordinates"
	case !b.Category.Valid():
		return "category"
	case len(b.Name) > quadtree.MaxNameLen:
		return "name"
	case !b.Price.Valid():
		return "price"
	case !b.Rating.Valid():
		return "rating"
	}
	return ""
}

func (p *partition) skip(b nearby.Business, reason string) {
	p.skipped++
	p.reasons[reason]++
	if p.metrics != nil {
		p.metrics.rowsSkipped.WithLabelValues(reason).Inc()
	}
	if len(p.skippedIDs) < MaxLoggedSkips {
		p.skippedIDs = append(p.skippedIDs, b.ID)
		p.logger.Warn("skipping impossible business", "id", b.ID, "reason", reason,
			"lat", fmt.Sprint(b.Lat), "lon", fmt.Sprint(b.Lon), "category", int(b.Category))
	}
}

// parallelRegions is how many regions are built and written at a time. A
// seed's compression runs in parallel only over its six sections, of which
// the names dominate; a second region keeps both cores of a small machine
// busy. Each costs memory for its tree and its encoded sections while it
// is in progress.
const parallelRegions = 2

// publish builds and writes each region's seed, then the manifest. On
// error it removes the seeds it wrote.
func publish(ctx context.Context, cfg Config, p *partition, prev seeds.Manifest, watermark time.Time, logger *slog.Logger) (m seeds.Manifest, err error) {
	newest, err := newestVersion(cfg.Dir, prev)
	if err != nil {
		return m, err
	}
	m = seeds.Manifest{Generation: prev.Generation + 1, CreatedAt: time.Now().UTC()}
	version := seeds.NextVersion(newest, m.CreatedAt)
	var written []string
	defer func() {
		if err == nil {
			return
		}
		// Never remove what the manifest in force names: the manifest's
		// rename may have happened before a failure (syncing the
		// directory), or another build may have published seeds of the
		// same name (a version is a millisecond clock).
		named := map[string]bool{}
		if cur, rerr := seeds.ReadManifest(cfg.Dir); rerr == nil {
			for _, r := range cur.Regions {
				named[r.File] = true
			}
		}
		for _, name := range written {
			if !named[name] {
				os.Remove(filepath.Join(cfg.Dir, name))
			}
		}
	}()
	// Largest regions first, so the last to finish is a small one.
	order := make([]int, len(p.rs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return p.builders[b].Len() - p.builders[a].Len() })
	entries := make([]seeds.Region, len(p.rs))
	errs := make([]error, len(p.rs))
	var mu sync.Mutex // guards written
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(parallelRegions, len(order)) {
		wg.Go(func() {
			for !failed.Load() {
				k := int(next.Add(1)) - 1
				if k >= len(order) {
					return
				}
				i := order[k]
				entry, err := writeRegion(ctx, cfg.Dir, p, i, seeds.Header{
					Region: p.rs[i].Name, IndexVersion: version, Watermark: watermark, CreatedAt: m.CreatedAt}, logger)
				if err != nil {
					errs[i] = err
					failed.Store(true)
					return
				}
				mu.Lock()
				written = append(written, entry.File)
				mu.Unlock()
				entries[i] = entry
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return m, err
		}
	}
	m.Regions = entries
	m.Partition = cfg.Regions
	// Regions check the context only before they start: one that ended
	// while the last seeds were written (a timeout, SIGTERM) fails the
	// build here, as it would have earlier.
	if err := ctx.Err(); err != nil {
		return m, fmt.Errorf("not publishing: %w", err)
	}
	if cfg.BeforePublish != nil {
		if err := cfg.BeforePublish(ctx); err != nil {
			return m, fmt.Errorf("not publishing: %w", err)
		}
	}
	// The lock makes one indexer publish at a time, but not the one whose
	// snapshot is newest: the previous manifest must still be the one
	// this build started from. (Between this read and the rename below,
	// only another holder of the lock could publish, which the lock
	// prevents; the check is for a lock lost and retaken meanwhile.)
	switch cur, err := seeds.ReadManifest(cfg.Dir); {
	case errors.Is(err, fs.ErrNotExist) && prev.Generation == 0:
	case err != nil:
		return m, fmt.Errorf("not publishing: %w", err)
	case cur.Generation != prev.Generation:
		return m, fmt.Errorf("not publishing: %w (generation %d; this build started after %d)", ErrSuperseded, cur.Generation, prev.Generation)
	}
	if err := seeds.WriteManifest(cfg.Dir, m); err != nil {
		return m, err
	}
	written = nil // published: they are the current seeds now
	if _, err := seeds.GC(cfg.Dir, KeepSeeds); err != nil {
		// The publish stands; old files linger until the next GC.
		logger.Warn("published, but removing superseded seeds failed", "err", err)
	}
	return m, nil
}

// newestVersion returns the newest index version of prev and of every seed
// file in dir. A build's version must exceed them all, so that its seeds
// never replace files another build wrote: two builds that start from the
// same manifest would otherwise derive the same version when the clock is
// behind it (set back, or another host's ahead), and the second would
// overwrite the seeds the first published. Files of failed builds count
// too.
func newestVersion(dir string, prev seeds.Manifest) (uint64, error) {
	var newest uint64
	for _, r := range prev.Regions {
		newest = max(newest, r.IndexVersion)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("listing the seeds in %s: %w", dir, err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".seed")
		if i := strings.LastIndexByte(name, '-'); ok && i >= 0 {
			if v, err := strconv.ParseUint(name[i+1:], 10, 64); err == nil {
				newest = max(newest, v)
			}
		}
	}
	return newest, nil
}

// writeRegion builds region i's tree, releasing its builder, and writes its
// seed with the region's opening hours as its blobs.
func writeRegion(ctx context.Context, dir string, p *partition, i int, h seeds.Header, logger *slog.Logger) (seeds.Region, error) {
	if err := ctx.Err(); err != nil {
		return seeds.Region{}, err
	}
	start := time.Now()
	tree := p.builders[i].Build()
	// A business's tag is 1 + the index of its hours' binary form.
	for _, sch := range p.hours[i].Schedules {
		h.Blobs = append(h.Blobs, sch.AppendBinary(nil))
	}
	p.builders[i], p.hours[i] = nil, nil
	built := time.Since(start)
	entry, err := seeds.WriteSeed(dir, h, tree)
	if err != nil {
		return entry, fmt.Errorf("region %s: %w", h.Region, err)
	}
	logger.Info("seed written", "region", h.Region, "file", entry.File, "businesses", entry.Count, "bytes", entry.Bytes,
		"opening_hours", len(h.Blobs), "build_s", built.Seconds(), "write_s", (time.Since(start) - built).Seconds())
	return entry, nil
}
