package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/seeds"
)

// LoadDir loads the seeds named by dir's manifest into an index: the
// regions for which want returns true (all when want is nil) from their
// seeds, the others as remote regions described by the manifest.
func LoadDir(dir string, want func(region string) bool) (*Index, seeds.Manifest, error) {
	m, ss, err := seeds.LoadRegions(dir, want)
	if err != nil {
		return nil, m, err
	}
	regions := make([]*Region, len(ss))
	for i, s := range ss {
		hs := make([]*hours.Schedule, len(s.Blobs))
		for j, blob := range s.Blobs {
			h, n, err := hours.DecodeBinary(blob)
			if he := (*hours.Error)(nil); errors.As(err, &he) && he.Field == "time_zone" {
				// A zone this process's tz database lacks (the indexer's
				// is newer) or refuses: those businesses' hours are
				// unknown here, as the live path and the database's
				// detail reads take them, rather than the whole seed
				// refused until this host's tz database changes.
				h, n, err = hours.Schedule{}, len(blob), nil
			}
			if err == nil && n != len(blob) {
				err = fmt.Errorf("%d stray bytes", len(blob)-n)
			}
			if err != nil {
				return nil, m, fmt.Errorf("seed of region %s: opening hours %d: %w", s.Region, j+1, err)
			}
			hs[j] = &h
		}
		if regions[i], err = NewRegion(s.Region, s.IndexVersion, s.Tree, hs); err != nil {
			return nil, m, err
		}
	}
	var remote []RemoteRegion
	for _, r := range m.Regions {
		if want != nil && !want(r.Name) {
			remote = append(remote, RemoteRegion{Name: r.Name, Version: r.IndexVersion, Count: r.Count, Bounds: r.Bounds})
		}
	}
	return NewClusterIndex(regions, remote), m, nil
}

// Watcher keeps an Engine serving the seeds a directory's manifest names,
// reloading when the manifest changes. A bad manifest or seed is logged and
// counted, and the engine keeps the index it has.
type Watcher struct {
	Dir      string
	Engine   *Engine
	Interval time.Duration // how often the manifest is checked
	Logger   *slog.Logger
	// Want says which regions to load; the others are asked of other
	// nodes. Nil loads every region.
	Want func(region string) bool
	// Install, if set, makes a loaded index current instead of
	// Engine.Swap: a Follower's Install adds the live changes.
	Install func(*Index, seeds.Manifest)

	reloads *prometheus.CounterVec
	current seeds.Manifest
	loaded  bool
	// refused is the state of the files of the last refused load, and
	// refusedErr why and refusedAt when; while they stay so, the load is
	// tried again only every RefusedRetry.
	refused    []fileState
	refusedErr error
	refusedAt  time.Time
}

// fileState is what a reload looks at to tell whether a file changed.
type fileState struct {
	name    string
	size    int64
	modTime int64 // Unix nanoseconds; -1: missing or unreadable
	mode    os.FileMode
}

// RefusedRetry is how often a refused load is tried again while its files
// look unchanged: a fix that changes no size, time or mode (ownership, a
// transient read error) is picked up within it.
const RefusedRetry = time.Minute

// NewWatcher returns a watcher of dir for e, with its reload counter
// registered on reg.
func NewWatcher(dir string, e *Engine, interval time.Duration, logger *slog.Logger, reg prometheus.Registerer) *Watcher {
	w := &Watcher{
		Dir: dir, Engine: e, Interval: interval, Logger: logger,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nearby_index_reloads_total",
			Help: "Index reloads from seeds, by result (ok or error).",
		}, []string{"result"}),
	}
	reg.MustRegister(w.reloads)
	return w
}

// Reload loads the manifest's seeds if the manifest changed since the last
// successful load, and swaps them in. It returns whether it swapped. A
// refused load is logged and counted once, and not tried again (Reload
// returns its error) until the manifest or one of its seeds changes on
// disk, or RefusedRetry has passed: a bad generation costs no full load at
// every check.
func (w *Watcher) Reload() (bool, error) {
	read, err := seeds.ReadManifest(w.Dir)
	if err == nil && w.loaded && sameManifest(read, w.current) {
		return false, nil
	}
	files := w.files(read)
	if w.refused != nil && slices.Equal(files, w.refused) && time.Since(w.refusedAt) < RefusedRetry {
		return false, w.refusedErr
	}
	m := read
	var ix *Index
	if err == nil {
		start := time.Now()
		ix, m, err = LoadDir(w.Dir, w.Want)
		if err == nil {
			w.Logger.Info("index loaded", "dir", w.Dir, "version", ix.Version, "generation", m.Generation,
				"businesses", ix.Len(), "regions", len(ix.Regions), "remote_regions", len(ix.Remote), "took", time.Since(start).String())
		}
	}
	if err != nil {
		w.reloads.WithLabelValues("error").Inc()
		w.Logger.Error("index reload refused; keeping the current index", "dir", w.Dir, "err", err)
		w.refused, w.refusedErr = nil, nil
		if slices.Equal(files, w.files(read)) { // else they changed during the load: try again
			w.refused, w.refusedErr, w.refusedAt = files, err, time.Now()
		}
		return false, err
	}
	w.refused, w.refusedErr = nil, nil
	if w.Install != nil {
		w.Install(ix, m)
	} else {
		w.Engine.Swap(ix)
	}
	w.current, w.loaded = m, true
	debug.FreeOSMemory() // return the replaced index's memory once readers drain
	w.reloads.WithLabelValues("ok").Inc()
	return true, nil
}

// files returns the state of dir's manifest and of the seeds m names.
func (w *Watcher) files(m seeds.Manifest) []fileState {
	names := []string{seeds.ManifestName}
	for _, r := range m.Regions {
		names = append(names, r.File)
	}
	fs := make([]fileState, len(names))
	for i, name := range names {
		fs[i] = fileState{name: name, modTime: -1}
		if fi, err := os.Stat(filepath.Join(w.Dir, name)); err == nil {
			fs[i].size, fs[i].modTime, fs[i].mode = fi.Size(), fi.ModTime().UnixNano(), fi.Mode()
		}
	}
	return fs
}

func sameManifest(a, b seeds.Manifest) bool {
	if a.Generation != b.Generation || len(a.Regions) != len(b.Regions) {
		return false
	}
	for i := range a.Regions {
		ra, rb := a.Regions[i], b.Regions[i]
		// Watermarks compare as instants: == compares locations too, and a
		// watermark with an offset parses into a new one at every read.
		if !ra.Watermark.Equal(rb.Watermark) {
			return false
		}
		ra.Watermark, rb.Watermark = time.Time{}, time.Time{}
		if ra != rb {
			return false
		}
	}
	return true
}

// Run checks the manifest every Interval until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Reload()
		}
	}
}
