package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geohash"
)

// Import bulk-loads businesses into the primary with COPY, as owner, with
// every column a writer must set (the precision-12 geohash included) and
// the attributes (price, rating, review count, hours); the other columns
// take their defaults. next yields businesses until it returns false;
// coordinates are rounded to 1e-7° as owner-api stores them and IDs are
// ignored: the table assigns them. Each business is validated as owner-api
// would. The load is one transaction: all or nothing. Rows are stamped
// by the server with the load's start (the columns' default, now(): the
// importing process's clock may be off the server's, which stamps every
// other write): a load that takes longer than FeedSlack commits rows the
// change feed's followers may have passed, and they reach searchd with
// the next index build instead.
func Import(ctx context.Context, db *DB, owner int64, next func() (nearby.Business, bool, error)) (int64, error) {
	if owner <= 0 {
		return 0, nearby.InvalidParams([]nearby.InvalidParam{{Name: "owner", Reason: "must be a positive id"}})
	}
	var row [len(importColumns)]any
	var count int64
	hoursText := hoursJSON{}
	// The server reports an error of the source as a cancelled COPY; the
	// source's own error says what was wrong.
	var srcErr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		b, ok, err := next()
		if err != nil || !ok {
			srcErr = err
			return nil, err
		}
		count++
		r := nearby.BusinessRecord{OwnerID: owner, Name: b.Name, Category: b.Category, Lat: nearby.RoundE7(b.Lat), Lon: nearby.RoundE7(b.Lon),
			Price: b.Price, Rating: b.Rating, ReviewCount: b.ReviewCount, Hours: b.Hours}
		h, err := hoursText.param(r.Hours)
		if err == nil {
			err = r.Validate()
		}
		if err != nil {
			srcErr = fmt.Errorf("business %d (row %d): %w", b.ID, count, err)
			return nil, srcErr
		}
		row = [...]any{owner, r.Name, r.Category.String(), r.Lat, r.Lon, geohash.Encode(r.Lat, r.Lon, geohash.MaxPrecision),
			priceParam(r.Price), ratingParam(r.Rating), int32(r.ReviewCount), h}
		return row[:], nil
	})
	n, err := db.primary.CopyFrom(ctx, pgx.Identifier{"businesses"}, importColumns[:], src)
	switch {
	case srcErr != nil:
		return 0, srcErr
	case err != nil:
		return n, translate(err, "import businesses")
	}
	return n, nil
}

// importColumns are the columns Import sets.
var importColumns = [...]string{"owner_id", "name", "category", "lat", "lon", "geohash",
	"price", "rating", "review_count", "hours"}
