package seeds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/quadtree"
)

// ManifestName is the file in a seed directory that names its current seeds.
const ManifestName = "MANIFEST.json"

// ErrManifest says a manifest is unreadable or inconsistent.
var ErrManifest = errors.New("bad manifest")

// Manifest lists the current seed of each region in a directory. It is
// replaced atomically, so a reader always sees one consistent set.
type Manifest struct {
	Generation uint64    `json:"generation"` // grows with every publish
	CreatedAt  time.Time `json:"created_at"`
	Regions    []Region  `json:"regions"` // sorted by name, names unique
	// Partition is the indexer's rule for which region a business belongs
	// to; every region it names has an entry in Regions. It may be absent
	// (manifests written before it existed).
	Partition Partition `json:"partition,omitempty"`
}

// Region is one region's current seed in a manifest.
type Region struct {
	Name         string    `json:"name"`
	File         string    `json:"file"` // base name within the directory
	IndexVersion uint64    `json:"index_version"`
	Count        int       `json:"count"`
	Watermark    time.Time `json:"watermark"`
	Bytes        int64     `json:"bytes"`
	Bounds       geo.Rect  `json:"bounds"` // bounding box of the entries; zero when Count is 0
}

// FileName is the name under which a region's seed of a version is stored.
func FileName(region string, version uint64) string {
	return fmt.Sprintf("%s-%020d.seed", region, version)
}

// WriteSeed writes t as a seed in dir under FileName(h.Region,
// h.IndexVersion), atomically, and returns its manifest entry. The seed is
// not current until a manifest naming it is written.
func WriteSeed(dir string, h Header, t *quadtree.Tree) (Region, error) {
	if !ValidRegion(h.Region) {
		return Region{}, fmt.Errorf("%w: %q", ErrName, h.Region)
	}
	name := FileName(h.Region, h.IndexVersion)
	path := filepath.Join(dir, name)
	if err := Write(path, h, t); err != nil {
		return Region{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Region{}, err
	}
	bounds, _ := t.Bounds()
	return Region{Name: h.Region, File: name, IndexVersion: h.IndexVersion, Count: t.Len(), Watermark: h.Watermark, Bytes: fi.Size(), Bounds: bounds}, nil
}

// WriteManifest validates m and atomically replaces dir's manifest with it.
func WriteManifest(dir string, m Manifest) error {
	slices.SortFunc(m.Regions, func(a, b Region) int { return strings.Compare(a.Name, b.Name) })
	if err := m.validate(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ManifestName), func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	var m Manifest
	data, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read manifest %q: %w", path, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("read manifest %q: %w: %w", path, ErrManifest, err)
	}
	if err := m.validate(); err != nil {
		return m, fmt.Errorf("read manifest %q: %w", path, err)
	}
	return m, nil
}

func (m Manifest) validate() error {
	if err := m.Partition.validate(); err != nil {
		return err
	}
	for _, a := range m.Partition {
		if _, ok := slices.BinarySearchFunc(m.Regions, a.Name, func(r Region, name string) int { return strings.Compare(r.Name, name) }); !ok {
			return fmt.Errorf("%w: partition names region %q, which has no seed", ErrManifest, a.Name)
		}
	}
	for i, r := range m.Regions {
		if !ValidRegion(r.Name) {
			return fmt.Errorf("%w: region name %q", ErrManifest, r.Name)
		}
		if r.File != filepath.Base(r.File) || !strings.HasSuffix(r.File, ".seed") || strings.HasPrefix(r.File, ".") {
			return fmt.Errorf("%w: region %q: file %q", ErrManifest, r.Name, r.File)
		}
		// Builds size their memory by the counts of the manifest they
		// replace.
		if r.Count < 0 || r.Count > MaxEntries {
			return fmt.Errorf("%w: region %q: count %d", ErrManifest, r.Name, r.Count)
		}
		if i > 0 && m.Regions[i-1].Name >= r.Name {
			return fmt.Errorf("%w: regions not sorted or repeated at %q", ErrManifest, r.Name)
		}
	}
	return nil
}

// LoadDir reads dir's manifest and loads every seed it names, each checked
// against its region. It fails as a whole if any seed is bad, so the caller
// keeps what it had.
func LoadDir(dir string) (Manifest, []*Seed, error) { return LoadRegions(dir, nil) }

// LoadRegions is LoadDir for the regions for which want returns true (all
// when want is nil). The manifest is returned whole.
func LoadRegions(dir string, want func(region string) bool) (Manifest, []*Seed, error) {
	return Loader{}.LoadRegions(dir, want)
}

// LoadRegions is the package's LoadRegions within l's limit, which bounds
// the seeds it loads together: they are all in memory at the end.
func (l Loader) LoadRegions(dir string, want func(region string) bool) (Manifest, []*Seed, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return m, nil, err
	}
	var ss []*Seed
	left := l.limit()
	for _, r := range m.Regions {
		if want != nil && !want(r.Name) {
			continue
		}
		s, n, err := load(filepath.Join(dir, r.File), r.Name, left)
		if err != nil {
			return m, nil, err
		}
		left -= n
		if s.IndexVersion != r.IndexVersion || s.Count != r.Count {
			return m, nil, fmt.Errorf("load seed %q: %w: manifest says version %d with %d entries, seed has %d with %d",
				r.File, ErrManifest, r.IndexVersion, r.Count, s.IndexVersion, s.Count)
		}
		ss = append(ss, s)
	}
	return m, ss, nil
}

// GC removes from dir the seed files the manifest does not name, except the
// newest keep of each region older than its current seed (the superseded
// ones, kept for rollback), and leftover temporary files of interrupted
// writes. Unnamed seeds newer than the current one were written by a build
// that has not published (it may be running) or never will (it crashed):
// they are removed once an hour old, as temporary files are, and do not
// count among the keep, so crashed builds cannot push the rollback seeds
// out. It returns the names removed. A keep below 0 counts as 0.
func GC(dir string, keep int) ([]string, error) {
	keep = max(keep, 0)
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	current := map[string]string{} // region → its current file
	for _, r := range m.Regions {
		current[r.Name] = r.File
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	// Seed file names sort by version within a region (zero-padded), so the
	// newest come last.
	byRegion := map[string][]string{}
	var removed []string
	stale := func(e os.DirEntry) bool {
		fi, err := e.Info()
		return err == nil && time.Since(fi.ModTime()) > time.Hour
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp"):
			if stale(e) {
				removed = append(removed, name)
			}
		case strings.HasSuffix(name, ".seed"):
			i := strings.LastIndexByte(name, '-')
			if i <= 0 {
				continue
			}
			switch cur := current[name[:i]]; {
			case name == cur:
			case cur != "" && name > cur: // unpublished
				if stale(e) {
					removed = append(removed, name)
				}
			default:
				byRegion[name[:i]] = append(byRegion[name[:i]], name)
			}
		}
	}
	for _, names := range byRegion {
		slices.Sort(names)
		removed = append(removed, names[:max(0, len(names)-keep)]...)
	}
	for _, name := range removed {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return removed, err
		}
	}
	slices.Sort(removed)
	return removed, nil
}
