package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geohash"
)

// Import bulk-loads businesses into the primary with COPY, as owner, with
// every column a writer must set (the precision-12 geohash included; the
// other columns take their defaults). next yields businesses until it
// returns false; coordinates are rounded to 1e-7° as owner-api stores them
// and IDs are ignored: the table assigns them. Each business is validated
// as owner-api would. The load is one transaction: all or nothing.
func Import(ctx context.Context, db *DB, owner int64, next func() (nearby.Business, bool, error)) (int64, error) {
	if owner <= 0 {
		return 0, nearby.InvalidParams([]nearby.InvalidParam{{Name: "owner", Reason: "must be a positive id"}})
	}
	now := time.Now()
	var row [8]any
	var count int64
	src := pgx.CopyFromFunc(func() ([]any, error) {
		b, ok, err := next()
		if err != nil || !ok {
			return nil, err
		}
		count++
		r := nearby.BusinessRecord{OwnerID: owner, Name: b.Name, Category: b.Category, Lat: nearby.RoundE7(b.Lat), Lon: nearby.RoundE7(b.Lon)}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("business %d (row %d): %w", b.ID, count, err)
		}
		row = [8]any{owner, r.Name, r.Category.String(), r.Lat, r.Lon, geohash.Encode(r.Lat, r.Lon, geohash.MaxPrecision), now, now}
		return row[:], nil
	})
	n, err := db.primary.CopyFrom(ctx, pgx.Identifier{"businesses"},
		[]string{"owner_id", "name", "category", "lat", "lon", "geohash", "created_at", "updated_at"}, src)
	if err != nil {
		return n, translate(err, "import businesses")
	}
	return n, nil
}
