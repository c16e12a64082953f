package postgres

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/geohash"
)

// Nearby returns the live businesses within q.RadiusM metres of (q.Lat,
// q.Lon) in q.Categories (all when empty), nearest first, ties broken by
// ascending id, at most q.Limit of them (all when q.Limit ≤ 0). It reads
// the replica. It is the database-side fallback of the in-memory index and
// its oracle in tests: candidates come from the indexed geohash column, one
// prefix range per cell of geohash.Cover (complete, so no business in the
// circle is missed, at the antimeridian and the poles too), and each is kept
// only if geo.Distance, the index's distance, puts it within the radius.
// The radius may exceed nearby.MaxRadiusM: covers then use coarser cells.
// Results carry the attributes; results with the same hours share one
// *hours.Schedule. The other parts of a query (filters, sort by rating,
// total) are not implemented here: a query asking for them is refused
// (EINVALID), not answered as if it had not.
func (s *BusinessService) Nearby(ctx context.Context, q nearby.SearchQuery) ([]nearby.SearchResult, error) {
	var bad []nearby.InvalidParam
	if !geo.Valid(q.Lat, q.Lon) {
		bad = append(bad, nearby.InvalidParam{Name: "lat", Reason: "lat, lon must be valid WGS84 degrees"})
	}
	if !(q.RadiusM > 0) || math.IsInf(q.RadiusM, 1) {
		bad = append(bad, nearby.InvalidParam{Name: "radius", Reason: "must be a positive number of metres"})
	}
	if q.Filters != (nearby.Filters{}) || q.Sort != nearby.SortDistance || q.Total {
		bad = append(bad, nearby.InvalidParam{Name: "query", Reason: "the database-side search takes categories and the distance order only"})
	}
	if err := nearby.InvalidParams(bad); err != nil {
		return nil, err
	}
	lo, hi, err := ranges(q.Lat, q.Lon, q.RadiusM)
	if err != nil {
		return nil, err
	}
	var cats []string // nil: no filter
	if q.Categories != 0 {
		cats = []string{}
		for _, c := range nearby.Categories() {
			if q.Categories.Has(c) {
				cats = append(cats, c.String())
			}
		}
	}
	rows, err := s.db.replica.Query(ctx, `SELECT `+businessColumns+`
		FROM unnest($1::text[], $2::text[]) AS r(lo, hi)
		JOIN businesses b ON b.geohash >= r.lo COLLATE "C" AND b.geohash < r.hi COLLATE "C"
		WHERE b.deleted_at IS NULL AND ($3::text[] IS NULL OR b.category = ANY($3::text[]))`, lo, hi, cats)
	if err != nil {
		return nil, translate(err, "nearby")
	}
	defer rows.Close()
	o := geo.NewOrigin(q.Lat, q.Lon)
	var out []nearby.SearchResult
	schedules := newScheduleCache()
	for rows.Next() {
		b, err := scanBusiness(rows, schedules)
		if err != nil {
			return nil, translate(err, "nearby")
		}
		if d := o.Distance(b.Lat, b.Lon); d <= q.RadiusM {
			out = append(out, nearby.SearchResult{Business: b, DistanceM: d})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "nearby")
	}
	slices.SortFunc(out, func(a, b nearby.SearchResult) int {
		if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// maxRanges bounds the index range scans of one Nearby query. The
// precision suited to the radius gives at most 12 cells up to ±45°
// latitude, but cells narrow towards the poles, where a circle can meet
// thousands; coarser cells then make for fewer, longer scans.
const maxRanges = 64

// ranges returns half-open geohash ranges [lo[i], hi[i]) that together hold
// the precision-12 geohash of every point within radiusM metres of lat, lon:
// the cells of geohash.Cover at the precision suited to the radius, or a
// coarser one where that needs too many, with runs of consecutive cells
// merged.
func ranges(lat, lon, radiusM float64) (lo, hi []string, err error) {
	var cells []string
	for p := geohash.PrecisionForRadius(radiusM); ; p-- {
		cells, err = geohash.Cover(lat, lon, radiusM, p)
		if p > 1 && (errors.Is(err, geohash.ErrTooManyCells) || (err == nil && len(cells) > maxRanges)) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		break
	}
	for _, c := range cells {
		next := successor(c)
		if n := len(hi); n > 0 && hi[n-1] == c {
			hi[n-1] = next
			continue
		}
		lo, hi = append(lo, c), append(hi, next)
	}
	return lo, hi, nil
}

// successor returns the smallest string greater than every string with
// prefix cell (a geohash of the same length following cell, or "~", which
// sorts after every geohash, past the last cell).
func successor(cell string) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	b := []byte(cell)
	for i := len(b) - 1; i >= 0; i-- {
		j := strings.IndexByte(alphabet, b[i])
		if j < len(alphabet)-1 {
			b[i] = alphabet[j+1]
			return string(b)
		}
		b[i] = alphabet[0]
	}
	return "~"
}

// businessColumns are the columns of a nearby.Business, in scanBusiness's
// order.
const businessColumns = `id, name, category, lat, lon, price, rating, review_count, hours`

// scanBusiness scans a row of businessColumns followed by the columns of
// extra, decoding hours through schedules.
func scanBusiness(row pgx.Row, schedules *scheduleCache, extra ...any) (nearby.Business, error) {
	var b nearby.Business
	var category string
	var price, rating pgtype.Int2
	var reviews int32
	var hoursText pgtype.DriverBytes // valid until the next row: decoded at once
	dest := append([]any{&b.ID, &b.Name, &category, &b.Lat, &b.Lon, &price, &rating, &reviews, &hoursText}, extra...)
	if err := row.Scan(dest...); err != nil {
		return b, err
	}
	b.Price, b.Rating, b.ReviewCount = priceOf(price), ratingOf(rating), reviewsOf(reviews)
	b.Hours = schedules.get(hoursText)
	c, err := nearby.ParseCategory(category)
	b.Category = c
	return b, err
}

// StreamLive calls fn with every live business, in no particular order,
// from one consistent snapshot of the replica, streaming rows as they
// arrive: memory grows only with the distinct opening hours, as businesses
// with the same hours share one *hours.Schedule (see CopyLive). It stops at
// fn's first error and returns it. The watermark is the newest change stamp in the
// snapshot (1970-01-01 UTC for an empty table): a follower of Changes that
// starts at the watermark less FeedSlack misses no change the stream
// lacks.
func (s *BusinessService) StreamLive(ctx context.Context, fn func(nearby.Business) error) (watermark time.Time, err error) {
	tx, err := s.db.replica.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return time.Time{}, translate(err, "stream businesses")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := tx.QueryRow(ctx, watermarkSQL).Scan(&watermark); err != nil {
		return time.Time{}, translate(err, "stream businesses")
	}
	rows, err := tx.Query(ctx, `SELECT `+businessColumns+` FROM businesses WHERE deleted_at IS NULL`)
	if err != nil {
		return time.Time{}, translate(err, "stream businesses")
	}
	defer rows.Close()
	schedules := newScheduleCache()
	for rows.Next() {
		b, err := scanBusiness(rows, schedules)
		if err != nil {
			return time.Time{}, translate(err, "stream businesses")
		}
		if err := fn(b); err != nil {
			return time.Time{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, translate(err, "stream businesses")
	}
	return watermark.UTC(), nil
}
