package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/nearby/nearby"
)

// copyLiveSQL streams the live businesses in PostgreSQL's binary COPY
// format: no per-row protocol messages beyond one CopyData, no text
// conversion of numbers on either side.
const copyLiveSQL = `COPY (SELECT ` + businessColumns + ` FROM businesses WHERE deleted_at IS NULL) TO STDOUT (FORMAT binary)`

// CopyLive is StreamLive's fast path for the indexer: it streams every live
// business of one consistent snapshot of the replica with COPY ... TO STDOUT
// (FORMAT binary), decoding rows as they arrive, so memory does not grow
// with the table. The watermark is as StreamLive's.
//
// Rows are passed on as stored, unchecked: coordinates are whatever the
// table holds (the schema's constraints keep them in range, but a reader of
// the database must not rely on that), and a category, price or rating the
// domain does not know arrives as a value that is not Valid (a negative
// review count as 0). The caller decides what to skip. Opening hours are
// decoded once per distinct schedule and shared: all businesses with the
// same hours get the same *hours.Schedule, so memory grows only with the
// distinct schedules; hours that do not decode (a time zone missing from
// this process's tz database) arrive unknown.
//
// fn's first error stops the stream (the connection carrying it is then
// closed) and is returned as is. A lost or refused connection is
// EUNAVAILABLE, with the driver error in the chain.
func (s *BusinessService) CopyLive(ctx context.Context, fn func(nearby.Business) error) (watermark time.Time, err error) {
	tx, err := s.db.replica.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return time.Time{}, translate(err, "copy businesses")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := tx.QueryRow(ctx, watermarkSQL).Scan(&watermark); err != nil {
		return time.Time{}, translate(err, "copy businesses")
	}
	d := newCopyDecoder(fn)
	if _, err := tx.Conn().PgConn().CopyTo(ctx, d, copyLiveSQL); err != nil {
		if d.fnErr != nil {
			return time.Time{}, d.fnErr
		}
		return time.Time{}, translate(err, "copy businesses")
	}
	if err := d.finish(); err != nil {
		return time.Time{}, translate(err, "copy businesses")
	}
	return watermark.UTC(), nil
}

// EstimateLive returns the planner's estimate of the rows in the
// businesses table (deleted ones included) on the replica, or -1 when it
// has none yet (the table was never vacuumed or analysed). It costs one
// catalog lookup, so it suits progress reports, not counts.
func (s *BusinessService) EstimateLive(ctx context.Context) (int64, error) {
	var n float64
	err := s.db.replica.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'businesses'::regclass`).Scan(&n)
	if err != nil {
		return -1, translate(err, "estimate businesses")
	}
	if n < 0 {
		return -1, nil
	}
	return int64(n), nil
}

// errCopyFormat says the COPY stream is not what copyLiveSQL produces.
var errCopyFormat = errors.New("unexpected binary COPY data")

// copySignature starts every binary COPY stream.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// copyDecoder decodes copyLiveSQL's binary COPY stream as it is written to
// it, one CopyData payload at a time. Payloads may split rows anywhere
// (PostgreSQL sends one row per payload, but nothing depends on it): an
// incomplete row is kept until the rest arrives.
//
// Binary COPY: an 11-byte signature, flags (int32), a header extension
// (int32 length, then bytes); then per row a field count (int16; -1 ends
// the stream) and per field an int32 length (-1 for NULL) and the value in
// the type's binary send format, all integers big-endian: int8 and float8
// in 8 bytes, smallint in 2, integer in 4, text as its bytes, and jsonb as
// a version byte (1) followed by the JSON text.
type copyDecoder struct {
	fn         func(nearby.Business) error
	fnErr      error  // fn's error, returned as is
	pending    []byte // start of an incomplete row
	headerDone bool
	trailer    bool
	categories map[string]nearby.Category
	schedules  *scheduleCache
}

func newCopyDecoder(fn func(nearby.Business) error) *copyDecoder {
	cats := map[string]nearby.Category{}
	for _, c := range nearby.Categories() {
		cats[c.String()] = c
	}
	return &copyDecoder{fn: fn, categories: cats, schedules: newScheduleCache()}
}

// Fields of a row of copyLiveSQL (businessColumns).
const (
	fieldID = iota
	fieldName
	fieldCategory
	fieldLat
	fieldLon
	fieldPrice
	fieldRating
	fieldReviews
	fieldHours
	copyFields
)

// copyWidths are the sizes of the fixed-size fields; 0 for the others.
var copyWidths = [copyFields]int{fieldID: 8, fieldLat: 8, fieldLon: 8, fieldPrice: 2, fieldRating: 2, fieldReviews: 4}

// copyNullable are the fields that may be NULL.
var copyNullable = [copyFields]bool{fieldPrice: true, fieldRating: true, fieldHours: true}

// Write implements io.Writer for pgconn.CopyTo.
func (d *copyDecoder) Write(p []byte) (int, error) {
	data := p
	if len(d.pending) > 0 {
		d.pending = append(d.pending, p...)
		data = d.pending
	}
	used, err := d.decode(data)
	if err != nil {
		return 0, err
	}
	// Keep the unused tail; it may lie within pending itself, so copy
	// forward (the destination never passes the source).
	rest := data[used:]
	if len(d.pending) > 0 {
		d.pending = d.pending[:copy(d.pending, rest)]
	} else {
		d.pending = append(d.pending, rest...)
	}
	return len(p), nil
}

// finish checks that the stream ended where a complete one does.
func (d *copyDecoder) finish() error {
	if !d.trailer || len(d.pending) > 0 {
		return fmt.Errorf("%w: stream ended early or with %d stray bytes", errCopyFormat, len(d.pending))
	}
	return nil
}

// decode decodes the complete rows at the start of b and returns the bytes
// they take.
func (d *copyDecoder) decode(b []byte) (int, error) {
	be := binary.BigEndian
	off := 0
	if !d.headerDone {
		const fixed = 11 + 4 + 4
		if len(b) < fixed {
			return 0, nil
		}
		if !bytes.Equal(b[:11], copySignature) {
			return 0, fmt.Errorf("%w: bad signature", errCopyFormat)
		}
		ext := int(be.Uint32(b[15:]))
		if ext < 0 || ext > 1<<20 {
			return 0, fmt.Errorf("%w: header extension of %d bytes", errCopyFormat, ext)
		}
		if len(b) < fixed+ext {
			return 0, nil
		}
		off = fixed + ext
		d.headerDone = true
	}
	var fields [copyFields][]byte // nil for NULL
	for {
		row := b[off:]
		if len(row) < 2 {
			return off, nil
		}
		if d.trailer {
			return 0, fmt.Errorf("%w: data after the end marker", errCopyFormat)
		}
		n := int16(be.Uint16(row))
		if n == -1 {
			d.trailer = true
			off += 2
			continue
		}
		if n != int16(len(fields)) {
			return 0, fmt.Errorf("%w: row of %d fields, want %d", errCopyFormat, n, len(fields))
		}
		pos := 2
		complete := true
		for i := range fields {
			if len(row) < pos+4 {
				complete = false
				break
			}
			l := int32(be.Uint32(row[pos:]))
			pos += 4
			if l < 0 {
				if !copyNullable[i] {
					return 0, fmt.Errorf("%w: NULL in field %d", errCopyFormat, i)
				}
				fields[i] = nil
				continue
			}
			if len(row) < pos+int(l) {
				complete = false
				break
			}
			if w := copyWidths[i]; w != 0 && int(l) != w {
				return 0, fmt.Errorf("%w: field %d of %d bytes, want %d", errCopyFormat, i, l, w)
			}
			fields[i] = row[pos : pos+int(l)]
			pos += int(l)
		}
		if !complete {
			return off, nil
		}
		cat, ok := d.categories[string(fields[fieldCategory])]
		if !ok {
			cat = nearby.Category(math.MaxUint8) // not Valid: the caller skips it
		}
		biz := nearby.Business{
			ID:          int64(be.Uint64(fields[fieldID])),
			Name:        string(fields[fieldName]),
			Category:    cat,
			Lat:         math.Float64frombits(be.Uint64(fields[fieldLat])),
			Lon:         math.Float64frombits(be.Uint64(fields[fieldLon])),
			Price:       priceOf(int2Field(fields[fieldPrice])),
			Rating:      ratingOf(int2Field(fields[fieldRating])),
			ReviewCount: reviewsOf(int32(be.Uint32(fields[fieldReviews]))),
		}
		if h := fields[fieldHours]; h != nil {
			if len(h) == 0 || h[0] != 1 {
				return 0, fmt.Errorf("%w: jsonb without version 1", errCopyFormat)
			}
			biz.Hours = d.schedules.get(h[1:])
		}
		if err := d.fn(biz); err != nil {
			d.fnErr = err
			return 0, err
		}
		off += pos
	}
}

// int2Field decodes a smallint field; nil is NULL.
func int2Field(b []byte) pgtype.Int2 {
	if b == nil {
		return pgtype.Int2{}
	}
	return pgtype.Int2{Int16: int16(binary.BigEndian.Uint16(b)), Valid: true}
}
