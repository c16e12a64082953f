package pgtest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geohash"
	"github.com/nearby/nearby/hours"
)

// CopyBusinesses bulk-loads businesses into the migrated database at dsn
// with COPY, as owner 1, with every column a writer must set (the
// precision-12 geohash included) and the attributes (price, rating, review
// count, hours); the rest take their defaults. Unlike postgres.Import it
// does not validate: the schema's constraints still apply. next
// yields the businesses until it returns false; their coordinates are
// rounded to 1e-7° as the owners' API stores them, and their IDs are
// ignored: the table assigns them, in load order (1, 2, ... in a fresh
// database). It returns the number loaded.
//
// Bulk loads for benchmarks may pass dropIndexes, which drops the secondary
// indexes first (the indexer reads with a sequential scan, which does not
// use them) and makes loading several times faster.
func CopyBusinesses(ctx context.Context, dsn string, dropIndexes bool, next func() (nearby.Business, bool)) (int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if dropIndexes {
		for _, ix := range []string{"businesses_geohash_idx", "businesses_updated_at_idx", "businesses_owner_idx", "businesses_deleted_at_idx"} {
			if _, err := conn.Exec(ctx, "DROP INDEX IF EXISTS "+ix); err != nil {
				return 0, err
			}
		}
	}
	now := time.Now()
	var row [len(copyColumns)]any
	hoursJSON := map[*hours.Schedule][]byte{} // generated businesses share schedules: encode each once
	src := pgx.CopyFromFunc(func() ([]any, error) {
		b, ok := next()
		if !ok {
			return nil, nil
		}
		lat, lon := nearby.RoundE7(b.Lat), nearby.RoundE7(b.Lon)
		row = [...]any{int64(1), b.Name, b.Category.String(), lat, lon, geohash.Encode(lat, lon, geohash.MaxPrecision),
			nil, nil, int32(b.ReviewCount), nil, now, now}
		if b.Price != 0 {
			row[6] = int16(b.Price)
		}
		if b.Rating.Rated() {
			row[7] = int16(b.Rating.Tenths())
		}
		if b.Hours != nil && b.Hours.Known() {
			text, ok := hoursJSON[b.Hours]
			if !ok {
				var err error
				if text, err = json.Marshal(b.Hours); err != nil {
					return nil, err
				}
				hoursJSON[b.Hours] = text
			}
			row[9] = text
		}
		return row[:], nil
	})
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"businesses"}, copyColumns[:], src)
	if err != nil {
		return n, fmt.Errorf("copy businesses: %w", err)
	}
	// Set hint bits and the visibility map now, and the planner's row
	// estimate, rather than during the first scan the test times.
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) businesses"); err != nil {
		return n, err
	}
	return n, nil
}

// copyColumns are the columns CopyBusinesses sets.
var copyColumns = [...]string{"owner_id", "name", "category", "lat", "lon", "geohash",
	"price", "rating", "review_count", "hours", "created_at", "updated_at"}
