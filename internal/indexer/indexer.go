// Package indexer turns a stream of businesses into published seeds: it
// partitions them into regions, builds each region's quadtree, writes each
// seed and then, atomically, a manifest naming them all.
package indexer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// KeepSeeds is how many superseded seeds per region a publish keeps for
// rollback.
const KeepSeeds = 2

// Publish builds one seed per region from the businesses source yields and
// publishes them in dir under a new manifest. Nothing becomes visible unless
// every seed is written: on error the previous manifest stays in force.
// watermark is the newest updated_at the source saw (zero when unknown).
func Publish(dir string, rs Regions, watermark time.Time, source func(yield func(nearby.Business) error) error) (seeds.Manifest, error) {
	builders := make([]*quadtree.Builder, len(rs))
	for i := range builders {
		builders[i] = quadtree.NewBuilder(0)
	}
	err := source(func(b nearby.Business) error {
		return builders[rs.Of(b.Lat, b.Lon)].Add(b.ID, b.Lat, b.Lon, uint8(b.Category), b.Name)
	})
	if err != nil {
		return seeds.Manifest{}, err
	}
	prev, err := seeds.ReadManifest(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return seeds.Manifest{}, err
	}
	var newest uint64
	for _, r := range prev.Regions {
		newest = max(newest, r.IndexVersion)
	}
	m := seeds.Manifest{Generation: prev.Generation + 1, CreatedAt: time.Now().UTC()}
	version := seeds.NextVersion(newest, m.CreatedAt)
	for i, r := range rs {
		h := seeds.Header{Region: r.Name, IndexVersion: version, Watermark: watermark, CreatedAt: m.CreatedAt}
		entry, err := seeds.WriteSeed(dir, h, builders[i].Build())
		builders[i] = nil
		if err != nil {
			return seeds.Manifest{}, err
		}
		m.Regions = append(m.Regions, entry)
	}
	if err := seeds.WriteManifest(dir, m); err != nil {
		return seeds.Manifest{}, err
	}
	if _, err := seeds.GC(dir, KeepSeeds); err != nil {
		return m, fmt.Errorf("published, but garbage collection failed: %w", err)
	}
	return m, nil
}

// PublishCSV publishes the businesses of a CSV file (header id,name,
// category,lat,lon; extra columns allowed) as seeds in dir.
func PublishCSV(path, dir string, rs Regions) (seeds.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return seeds.Manifest{}, err
	}
	defer f.Close()
	return PublishReader(f, dir, rs)
}

// PublishReader is PublishCSV for CSV data from r.
func PublishReader(r io.Reader, dir string, rs Regions) (seeds.Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return seeds.Manifest{}, err
	}
	return Publish(dir, rs, time.Time{}, func(yield func(nearby.Business) error) error {
		return dataset.ReadCSV(r, yield)
	})
}
