package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geohash"
	"github.com/nearby/nearby/hours"
)

// BusinessService is nearby.OwnerService over the primary, plus the read
// path and maintenance queries over the replica and primary.
type BusinessService struct {
	db *DB
}

var _ nearby.OwnerService = (*BusinessService)(nil)

// NewBusinessService returns the business store over db.
func NewBusinessService(db *DB) *BusinessService { return &BusinessService{db: db} }

// columns are the columns of a BusinessRecord, in scanRecord's order.
const columns = `id, owner_id, name, category, lat, lon, address, city, state, country, zip,
	description, photos, price, rating, review_count, hours, version, created_at, updated_at, deleted_at`

// scanRecord scans a row of columns for an owner. Unlike the read path
// (scanDetail), it fails on stored hours it cannot decode: an owner's
// update based on the record would otherwise erase them.
func scanRecord(row pgx.Row) (*nearby.BusinessRecord, error) { return scan(row, true) }

// scanDetail scans a row of columns for a searcher: hours that do not
// decode (a time zone missing from this process's tz database) come out
// unknown, as the search index reads them (scheduleCache).
func scanDetail(row pgx.Row) (*nearby.BusinessRecord, error) { return scan(row, false) }

func scan(row pgx.Row, strictHours bool) (*nearby.BusinessRecord, error) {
	var r nearby.BusinessRecord
	var category string
	var price, rating pgtype.Int2
	var reviews int32
	var hoursText []byte
	err := row.Scan(&r.ID, &r.OwnerID, &r.Name, &category, &r.Lat, &r.Lon, &r.Address, &r.City, &r.State,
		&r.Country, &r.Zip, &r.Description, &r.Photos, &price, &rating, &reviews, &hoursText,
		&r.Version, &r.CreatedAt, &r.UpdatedAt, &r.DeletedAt)
	if err != nil {
		return nil, err
	}
	if r.Category, err = nearby.ParseCategory(category); err != nil {
		return nil, fmt.Errorf("business %d: stored category: %v", r.ID, err) // a bug, not bad input
	}
	r.Price, r.Rating, r.ReviewCount = priceOf(price), ratingOf(rating), reviewsOf(reviews)
	if hoursText != nil {
		r.Hours = new(hours.Schedule)
		if err := r.Hours.UnmarshalJSON(hoursText); err != nil {
			if strictHours {
				return nil, fmt.Errorf("business %d: stored hours: %w", r.ID, err)
			}
			r.Hours = nil
		}
	}
	normalize(&r)
	return &r, nil
}

// normalize puts times in UTC and makes Photos non-nil.
func normalize(r *nearby.BusinessRecord) {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if r.DeletedAt != nil {
		t := r.DeletedAt.UTC()
		r.DeletedAt = &t
	}
	if r.Photos == nil {
		r.Photos = []string{}
	}
}

// hashOf returns the precision-12 geohash stored with a record.
func hashOf(r *nearby.BusinessRecord) string {
	return geohash.Encode(r.Lat, r.Lon, geohash.MaxPrecision)
}

func notFound(id int64) error { return nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id) }

// Create implements nearby.OwnerService.
func (s *BusinessService) Create(ctx context.Context, ownerID int64, key string, in nearby.BusinessInput) (*nearby.BusinessRecord, bool, error) {
	if ownerID <= 0 {
		return nil, false, nearby.Errorf(nearby.EUNAUTHORIZED, "no owner")
	}
	if key != "" && !nearby.ValidIdempotencyKey(key) {
		return nil, false, nearby.InvalidParams([]nearby.InvalidParam{{Name: "Idempotency-Key",
			Reason: fmt.Sprintf("must be 1 to %d printable ASCII characters", nearby.MaxIdempotencyKey)}})
	}
	if err := in.Validate(true); err != nil {
		return nil, false, err
	}
	rec := nearby.BusinessRecord{OwnerID: ownerID}
	in.Apply(&rec)
	if key == "" {
		var out *nearby.BusinessRecord
		err := s.db.inTx(ctx, func(tx pgx.Tx) (err error) {
			out, err = insert(ctx, tx, &rec)
			return err
		})
		return out, false, translate(err, "create business")
	}

	hash := requestHash(&rec)
	var out *nearby.BusinessRecord
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		// Claiming the key first serialises concurrent creates with the
		// same key: a second claim waits for the first transaction and
		// then finds the key taken (or free again, if it rolled back).
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (owner_id, key, request_hash)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, ownerID, key, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errKeyTaken
		}
		if out, err = insert(ctx, tx, &rec); err != nil {
			return err
		}
		resp, err := json.Marshal(toStored(out))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET business_id = $3, response = $4
			WHERE owner_id = $1 AND key = $2`, ownerID, key, out.ID, resp)
		return err
	})
	if errors.Is(err, errKeyTaken) {
		return s.replay(ctx, ownerID, key, hash)
	}
	if err != nil {
		return nil, false, translate(err, "create business")
	}
	return out, false, nil
}

var errKeyTaken = errors.New("idempotency key taken")

// replay answers a create whose key is already used: the first create's
// record when the input is the same, EKEYREUSED when it is not.
func (s *BusinessService) replay(ctx context.Context, ownerID int64, key string, hash []byte) (*nearby.BusinessRecord, bool, error) {
	var stored []byte
	var resp []byte
	err := s.db.primary.QueryRow(ctx, `SELECT request_hash, response FROM idempotency_keys
		WHERE owner_id = $1 AND key = $2`, ownerID, key).Scan(&stored, &resp)
	if errors.Is(err, pgx.ErrNoRows) {
		// Purged between our claim and this read: rare enough to ask for a retry.
		return nil, false, nearby.Errorf(nearby.EUNAVAILABLE, "idempotency key expired during the request; retry")
	}
	if err != nil {
		return nil, false, translate(err, "read idempotency key")
	}
	if !bytes.Equal(stored, hash) {
		return nil, false, nearby.Errorf(nearby.EKEYREUSED,
			"Idempotency-Key %q was already used with a different request body", key)
	}
	var st storedRecord
	if err := json.Unmarshal(resp, &st); err != nil {
		return nil, false, fmt.Errorf("idempotency key %q: stored response: %w", key, err)
	}
	return st.record(), true, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// insert stores a new business. Writes stamp updated_at with
// clock_timestamp(), not the transaction's start, to keep the stamp close
// to the commit, as the change feed needs (see FeedSlack).
func insert(ctx context.Context, q querier, r *nearby.BusinessRecord) (*nearby.BusinessRecord, error) {
	return scanRecord(q.QueryRow(ctx, `INSERT INTO businesses
		(owner_id, name, category, lat, lon, geohash, address, city, state, country, zip, description, photos,
		 price, rating, review_count, hours, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, t, t
		FROM (SELECT clock_timestamp() AS t) AS now
		RETURNING `+columns,
		r.OwnerID, r.Name, r.Category.String(), r.Lat, r.Lon, hashOf(r), r.Address, r.City, r.State,
		r.Country, r.Zip, r.Description, r.Photos,
		priceParam(r.Price), ratingParam(r.Rating), int64(r.ReviewCount), hoursParam(r.Hours)))
}

// requestHash identifies a create's input: the record it would store, so
// that bodies differing only in spelling (key order, whitespace, an empty
// optional field sent or left out, hours written another way) count as the
// same request. The attributes are left out when not set, so a request
// without them hashes as it did before they existed.
func requestHash(r *nearby.BusinessRecord) []byte {
	data, _ := json.Marshal(toStored(r)) // strings, numbers and valid hours: cannot fail
	sum := sha256.Sum256(data)
	return sum[:]
}

// storedRecord is a BusinessRecord as kept in idempotency_keys.response.
type storedRecord struct {
	ID          int64           `json:"id,omitempty"`
	OwnerID     int64           `json:"owner_id"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	Address     string          `json:"address"`
	City        string          `json:"city"`
	State       string          `json:"state"`
	Country     string          `json:"country"`
	Zip         string          `json:"zip"`
	Description string          `json:"description"`
	Photos      []string        `json:"photos"`
	Price       nearby.Price    `json:"price,omitempty"`
	Rating      *int            `json:"rating,omitempty"` // tenths of a star
	ReviewCount uint32          `json:"review_count,omitempty"`
	Hours       *hours.Schedule `json:"hours,omitempty"`
	Version     int64           `json:"version,omitempty"`
	CreatedAt   *time.Time      `json:"created_at,omitempty"`
	UpdatedAt   *time.Time      `json:"updated_at,omitempty"`
}

func toStored(r *nearby.BusinessRecord) storedRecord {
	st := storedRecord{
		ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Category: r.Category.String(), Lat: r.Lat, Lon: r.Lon,
		Address: r.Address, City: r.City, State: r.State, Country: r.Country, Zip: r.Zip,
		Description: r.Description, Photos: r.Photos, Price: r.Price, ReviewCount: r.ReviewCount, Hours: r.Hours,
		Version: r.Version,
	}
	if st.Photos == nil {
		st.Photos = []string{}
	}
	if r.Rating.Rated() {
		tenths := r.Rating.Tenths()
		st.Rating = &tenths
	}
	if !r.CreatedAt.IsZero() {
		st.CreatedAt, st.UpdatedAt = &r.CreatedAt, &r.UpdatedAt
	}
	return st
}

func (st storedRecord) record() *nearby.BusinessRecord {
	c, _ := nearby.ParseCategory(st.Category)
	r := &nearby.BusinessRecord{
		ID: st.ID, OwnerID: st.OwnerID, Name: st.Name, Category: c, Lat: st.Lat, Lon: st.Lon,
		Address: st.Address, City: st.City, State: st.State, Country: st.Country, Zip: st.Zip,
		Description: st.Description, Photos: st.Photos, Price: st.Price, ReviewCount: st.ReviewCount,
		Hours: st.Hours, Version: st.Version,
	}
	if st.Rating != nil {
		r.Rating = nearby.RatingOf(*st.Rating)
	}
	if st.CreatedAt != nil {
		r.CreatedAt, r.UpdatedAt = *st.CreatedAt, *st.UpdatedAt
	}
	normalize(r)
	return r
}

// Get implements nearby.OwnerService.
func (s *BusinessService) Get(ctx context.Context, ownerID, id int64) (*nearby.BusinessRecord, error) {
	r, err := scanRecord(s.db.primary.QueryRow(ctx, `SELECT `+columns+` FROM businesses
		WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL`, id, ownerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	return r, translate(err, "get business")
}

// List implements nearby.OwnerService.
func (s *BusinessService) List(ctx context.Context, ownerID, afterID int64, limit int) ([]*nearby.BusinessRecord, int64, error) {
	if limit < 1 || limit > nearby.MaxLimit {
		return nil, 0, nearby.InvalidParams([]nearby.InvalidParam{{Name: "limit", Reason: "must be an integer in [1, 100]"}})
	}
	rows, err := s.db.primary.Query(ctx, `SELECT `+columns+` FROM businesses
		WHERE owner_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id LIMIT $3`, ownerID, afterID, limit+1)
	if err != nil {
		return nil, 0, translate(err, "list businesses")
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*nearby.BusinessRecord, error) { return scanRecord(row) })
	if err != nil {
		return nil, 0, translate(err, "list businesses")
	}
	var next int64
	if len(recs) > limit {
		recs = recs[:limit]
		next = recs[limit-1].ID
	}
	return recs, next, nil
}

// Replace implements nearby.OwnerService.
func (s *BusinessService) Replace(ctx context.Context, ownerID, id, version int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	if err := in.Validate(true); err != nil {
		return nil, err
	}
	return s.update(ctx, ownerID, id, version, func(r *nearby.BusinessRecord) {
		*r = nearby.BusinessRecord{ID: r.ID, OwnerID: r.OwnerID, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		in.Apply(r)
	})
}

// Patch implements nearby.OwnerService.
func (s *BusinessService) Patch(ctx context.Context, ownerID, id, version int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	if err := in.Validate(false); err != nil {
		return nil, err
	}
	return s.update(ctx, ownerID, id, version, func(r *nearby.BusinessRecord) { in.Apply(r) })
}

// update is optimistic: it reads the record, checks the version, applies
// change, and writes the result only if the row still has the version it
// read. Of concurrent updates based on one version exactly one succeeds; the
// others find the version changed (EPRECONDITION). An update that changes
// nothing writes nothing and keeps the version. Version 0 (If-Match: *)
// asks for whatever is current: see updateCurrent.
func (s *BusinessService) update(ctx context.Context, ownerID, id, version int64, change func(*nearby.BusinessRecord)) (*nearby.BusinessRecord, error) {
	if version == 0 {
		return s.updateCurrent(ctx, ownerID, id, change)
	}
	cur, err := s.Get(ctx, ownerID, id)
	if err != nil {
		return nil, err
	}
	if cur.Version != version {
		return nil, stale(id, version, cur.Version)
	}
	var out *nearby.BusinessRecord
	err = s.db.inTx(ctx, func(tx pgx.Tx) (err error) {
		out, err = write(ctx, tx, cur, change)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		// Changed or deleted since we read it.
		now, gerr := s.Get(ctx, ownerID, id)
		if gerr != nil {
			return nil, gerr
		}
		return nil, stale(id, version, now.Version)
	}
	return out, translate(err, "update business")
}

// updateCurrent applies change to whatever version is current. It reads
// the row FOR UPDATE, so concurrent such updates take turns, each applied
// to the version the one before it left, instead of losing the race
// against one another.
func (s *BusinessService) updateCurrent(ctx context.Context, ownerID, id int64, change func(*nearby.BusinessRecord)) (*nearby.BusinessRecord, error) {
	var out *nearby.BusinessRecord
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanRecord(tx.QueryRow(ctx, `SELECT `+columns+` FROM businesses
			WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL FOR UPDATE`, id, ownerID))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		out, err = write(ctx, tx, cur, change)
		return err
	})
	if err != nil {
		return nil, translate(err, "update business")
	}
	return out, nil
}

// write applies change to cur and stores the result if the row is still at
// cur's version (pgx.ErrNoRows if not). A change that changes nothing
// writes nothing and returns cur.
func write(ctx context.Context, q querier, cur *nearby.BusinessRecord, change func(*nearby.BusinessRecord)) (*nearby.BusinessRecord, error) {
	next := *cur
	next.Photos = slices.Clone(cur.Photos)
	change(&next)
	if err := next.Validate(); err != nil {
		return nil, err
	}
	if sameContent(cur, &next) {
		return cur, nil
	}
	return scanRecord(q.QueryRow(ctx, `UPDATE businesses SET
		name = $4, category = $5, lat = $6, lon = $7, geohash = $8, address = $9, city = $10, state = $11,
		country = $12, zip = $13, description = $14, photos = $15, price = $16, rating = $17,
		review_count = $18, hours = $19, version = version + 1, updated_at = clock_timestamp()
		WHERE id = $1 AND owner_id = $2 AND version = $3 AND deleted_at IS NULL
		RETURNING `+columns,
		cur.ID, cur.OwnerID, cur.Version, next.Name, next.Category.String(), next.Lat, next.Lon, hashOf(&next),
		next.Address, next.City, next.State, next.Country, next.Zip, next.Description, next.Photos,
		priceParam(next.Price), ratingParam(next.Rating), int64(next.ReviewCount), hoursParam(next.Hours)))
}

func stale(id, want, have int64) error {
	return nearby.Errorf(nearby.EPRECONDITION, "business %d is at version %d, not %d: read it again and retry", id, have, want)
}

// sameContent reports whether a and b have the same owner-editable fields,
// comparing hours by value.
func sameContent(a, b *nearby.BusinessRecord) bool {
	return a.Name == b.Name && a.Category == b.Category && a.Lat == b.Lat && a.Lon == b.Lon &&
		a.Address == b.Address && a.City == b.City && a.State == b.State && a.Country == b.Country &&
		a.Zip == b.Zip && a.Description == b.Description && slices.Equal(a.Photos, b.Photos) &&
		a.Price == b.Price && a.Rating == b.Rating && a.ReviewCount == b.ReviewCount &&
		(a.Hours == b.Hours || a.Hours != nil && b.Hours != nil && a.Hours.Equal(b.Hours))
}

// Delete implements nearby.OwnerService. The row stays, with deleted_at
// set and a new version, so the change feed carries the deletion; Purge
// removes it later.
func (s *BusinessService) Delete(ctx context.Context, ownerID, id, version int64) error {
	var tag pgconn.CommandTag
	err := s.db.inTx(ctx, func(tx pgx.Tx) (err error) {
		tag, err = tx.Exec(ctx, `UPDATE businesses
			SET deleted_at = now(), updated_at = clock_timestamp(), version = version + 1
			WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL AND ($3::bigint = 0 OR version = $3::bigint)`, id, ownerID, version)
		return err
	})
	if err != nil {
		return translate(err, "delete business")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	cur, err := s.Get(ctx, ownerID, id)
	if err != nil {
		return err
	}
	return stale(id, version, cur.Version)
}

// Purge removes businesses soft-deleted before deletedBefore and
// idempotency keys created before keysBefore, in batches so that no
// statement holds locks for long. It returns how many of each it removed.
func (s *BusinessService) Purge(ctx context.Context, deletedBefore, keysBefore time.Time) (businesses, keys int64, err error) {
	const batch = 5000
	for {
		tag, err := s.db.primary.Exec(ctx, `DELETE FROM businesses WHERE id IN (
			SELECT id FROM businesses WHERE deleted_at < $1 ORDER BY deleted_at LIMIT $2)`, deletedBefore, batch)
		if err != nil {
			return businesses, keys, translate(err, "purge businesses")
		}
		businesses += tag.RowsAffected()
		if tag.RowsAffected() < batch {
			break
		}
	}
	for {
		tag, err := s.db.primary.Exec(ctx, `DELETE FROM idempotency_keys WHERE (owner_id, key) IN (
			SELECT owner_id, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, keysBefore, batch)
		if err != nil {
			return businesses, keys, translate(err, "purge idempotency keys")
		}
		keys += tag.RowsAffected()
		if tag.RowsAffected() < batch {
			break
		}
	}
	return businesses, keys, nil
}
