// Package indexer turns a stream of businesses into published seeds: it
// partitions them into regions, builds each region's quadtree, writes each
// seed and then, atomically, a manifest naming them all.
//
// Rules:
//   - A build publishes all of its regions or none: seeds are written
//     first, then the manifest that names them replaces the previous one
//     in a single rename. A build that fails at any point (the source
//     breaks off, a disk fills up, the directory is read-only, the context
//     ends) leaves the previous manifest, and the seeds it names, in force,
//     and removes the seeds it wrote. A build publishes only over the
//     manifest it started from (else ErrSuperseded): another build that
//     published meanwhile may hold a newer snapshot.
//   - Every business the source yields lands in exactly one region (see
//     Regions.Of), except impossible ones, which are skipped and counted:
//     an id ≤ 0, coordinates that are not valid degrees (NaN, ±Inf, out
//     of range), a category the domain does not know, a name longer than
//     the index takes, a price or rating out of range. The database's
//     constraints rule them out; the indexer does not rely on that.
//   - A business's attributes go into its region's tree (quadtree.Attrs).
//     Its opening hours go into the region's table of distinct schedules,
//     deduplicated by pointer and then by hours.Schedule.Key, which the
//     seed stores as its blobs (seeds.Header.Blobs, each the schedule's
//     AppendBinary form); the business's tag is 1 + its schedule's index
//     there, 0 when its hours are unknown.
//   - Memory grows with the businesses of the build (about 60 bytes each
//     while streaming, names included) and their distinct opening hours,
//     plus the working set of the regions being built and written, two at
//     a time.
//   - Package indexer knows no database: a Source yields the businesses,
//     and a Leader (see Scheduler) says whether this process may publish.
package indexer

import (
	"context"
	"io"
	"os"
	"slices"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
)

// KeepSeeds is how many superseded seeds per region a publish keeps for
// rollback.
const KeepSeeds = 2

// CSVSource is a Source over the CSV file at path (header id,name,
// category,lat,lon; see dataset.ReadCSV for the optional and extra
// columns). A malformed row or an id that appears twice is an EINVALID
// error, so a build from it publishes nothing. Its watermark is zero: a
// file says nothing about freshness. It stops when ctx ends, with ctx's
// error.
func CSVSource(path string) Source {
	return func(ctx context.Context, yield func(nearby.Business) error) (time.Time, error) {
		f, err := os.Open(path)
		if err != nil {
			return time.Time{}, err
		}
		defer f.Close()
		// A file of millions of rows takes seconds to read: check the
		// context now and then, so SIGTERM and --timeout stop the read
		// rather than wait for the end of the file.
		n := 0
		return time.Time{}, readCSV(f, func(b nearby.Business) error {
			if n++; n%csvCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			return yield(b)
		})
	}
}

// csvCheckEvery is how many rows CSVSource reads between checks of its
// context.
const csvCheckEvery = 4096

// readCSV is dataset.ReadCSV, and fails when an id appears twice: the
// index and searchd assume one entry per id, which a database's primary
// key guarantees and a file does not. A duplicate would be answered twice
// (in two regions, if its copies lie apart), and a change to it would hide
// one copy only. Checking costs 8 bytes a row and a sort at the end,
// before anything is published.
func readCSV(r io.Reader, yield func(nearby.Business) error) error {
	var ids []int64
	err := dataset.ReadCSV(r, func(b nearby.Business) error {
		ids = append(ids, b.ID)
		return yield(b)
	})
	if err != nil {
		return err
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return nearby.Errorf(nearby.EINVALID, "id %d appears more than once (ids must be unique)", ids[i])
		}
	}
	return nil
}
