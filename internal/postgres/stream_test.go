package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres/pgtest"
)

func byID(a, b nearby.Business) int { return int(a.ID - b.ID) }

// TestCopyLiveMatchesStreamLive streams the same snapshot both ways: the
// binary COPY decoder gives exactly what pgx's row scanning gives.
func TestCopyLiveMatchesStreamLive(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	r := rand.New(rand.NewPCG(testSeed(t), 11))
	bs := load(t, db, testData(r, 3000))
	// Soft-delete a tenth.
	for _, b := range bs[:len(bs)/10] {
		if _, err := db.primary.Exec(ctx, `UPDATE businesses SET deleted_at = now() WHERE id = $1`, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	var viaCopy, viaRows []nearby.Business
	before := time.Now()
	wm, err := s.CopyLive(ctx, func(b nearby.Business) error { viaCopy = append(viaCopy, b); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StreamLive(ctx, func(b nearby.Business) error { viaRows = append(viaRows, b); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(viaCopy, byID)
	slices.SortFunc(viaRows, byID)
	want := slices.Clone(bs[len(bs)/10:])
	slices.SortFunc(want, byID)
	if !slices.EqualFunc(viaCopy, viaRows, nearby.Business.Equal) || !slices.EqualFunc(viaCopy, want, nearby.Business.Equal) {
		t.Fatalf("copy streamed %d, rows %d, want %d live", len(viaCopy), len(viaRows), len(want))
	}
	// Businesses with the same hours share one schedule: 3 distinct ones.
	if checkShared(t, viaCopy) == 0 || checkShared(t, viaRows) == 0 {
		t.Fatal("no business has hours")
	}
	if wm.IsZero() || wm.After(time.Now()) || wm.Before(before.Add(-time.Minute)) {
		t.Errorf("watermark %v", wm)
	}

	// fn's error stops the stream and comes back as is.
	stop := errors.New("stop")
	n := 0
	if _, err := s.CopyLive(ctx, func(nearby.Business) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stop: %v after %d rows", err, n)
	}
	// The pool recovers from the connection closed by the stop.
	n = 0
	if _, err := s.CopyLive(ctx, func(nearby.Business) error { n++; return nil }); err != nil || n != len(want) {
		t.Errorf("after a stop: %v, %d rows", err, n)
	}
}

// TestCopyLivePassesImpossibleRows drops the schema's constraints in a
// throwaway database and stores what they forbid: the stream passes the
// rows on as stored, for the indexer to skip.
func TestCopyLivePassesImpossibleRows(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	for _, c := range []string{"businesses_lat_check", "businesses_lon_check", "businesses_category_check", "businesses_geohash_check",
		"businesses_price_check", "businesses_rating_check", "businesses_review_count_check", "businesses_hours_check"} {
		if _, err := db.primary.Exec(ctx, "ALTER TABLE businesses DROP CONSTRAINT "+c); err != nil {
			t.Fatal(err)
		}
	}
	rows := []struct {
		lat, lon string
		cat      string
	}{
		{"91", "0", "cafe"}, {"0", "-180.5", "cafe"}, {"NaN", "0", "bar"}, {"0", "Infinity", "bar"},
		{"-Infinity", "0", "bar"}, {"10", "10", "spaceport"}, {"40.758", "-73.9855", "cafe"},
	}
	for _, r := range rows {
		if _, err := db.primary.Exec(ctx, `INSERT INTO businesses (owner_id, name, category, lat, lon, geohash)
			VALUES (1, 'x', $1, $2::float8, $3::float8, 'bad')`, r.cat, r.lat, r.lon); err != nil {
			t.Fatal(err)
		}
	}
	attrs := []struct{ price, rating, reviews, hours string }{
		{"9", "77", "-5", `{"time_zone":"Mars/Olympus_Mons"}`},
		{"0", "-1", "0", `{"time_zone":"UTC","weekly":{"mon":[["25:00","26:00"]]}}`},
		{"NULL", "NULL", "3", barHours},
	}
	for _, a := range attrs {
		if _, err := db.primary.Exec(ctx, `INSERT INTO businesses (owner_id, name, category, lat, lon, geohash, price, rating, review_count, hours)
			VALUES (1, 'y', 'bar', 1, 2, 'bad', `+a.price+`, `+a.rating+`, `+a.reviews+`, '`+a.hours+`')`); err != nil {
			t.Fatal(err)
		}
	}
	var got []nearby.Business
	if _, err := s.CopyLive(ctx, func(b nearby.Business) error { got = append(got, b); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, byID)
	if len(got) != len(rows)+len(attrs) {
		t.Fatalf("streamed %d rows, want %d", len(got), len(rows)+len(attrs))
	}
	if got[0].Lat != 91 || got[1].Lon != -180.5 || !math.IsNaN(got[2].Lat) || !math.IsInf(got[3].Lon, 1) ||
		!math.IsInf(got[4].Lat, -1) || got[5].Category.Valid() || got[6].Category != nearby.Cafe || got[6].Lat != 40.758 {
		t.Errorf("streamed %+v", got)
	}
	// Attributes out of range are not Valid; hours that do not decode are unknown.
	a, b, c := got[len(rows)], got[len(rows)+1], got[len(rows)+2]
	if a.Price.Valid() || a.Rating.Valid() || a.ReviewCount != 0 || a.Hours != nil ||
		b.Price.Valid() || b.Rating.Valid() || b.Hours != nil ||
		c.Price != 0 || c.Rating.Rated() || c.ReviewCount != 3 || c.Hours == nil || !c.Hours.Equal(schedule(barHours)) {
		t.Errorf("streamed attributes %+v\n%+v\n%+v", a, b, c)
	}
}

// TestCopyLiveConnectionDropped ends the streaming session from the server
// side (pg_terminate_backend) after the first rows: the stream fails as
// unavailable instead of ending early as if complete.
func TestCopyLiveConnectionDropped(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	// Enough rows (~3 MB of COPY data) that the server cannot have sent
	// them all into socket buffers while the first is handled.
	g := dataset.NewGenerator(1)
	left := 60000
	if _, err := pgtest.CopyBusinesses(ctx, dsn, false, func() (nearby.Business, bool) { left--; return g.Next(), left >= 0 }); err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	s := NewBusinessService(db)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	n := 0
	_, err = s.CopyLive(ctx, func(nearby.Business) error {
		n++
		if n == 100 {
			var killed int
			if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE query LIKE 'COPY (SELECT id, name%' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil || killed != 1 {
				t.Errorf("terminated %d sessions: %v", killed, err)
			}
		}
		return nil
	})
	wantCode(t, err, nearby.EUNAVAILABLE)
	if n < 100 || n >= 60000 {
		t.Errorf("%d rows before the failure", n)
	}
}

func TestEstimateLive(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	s := NewBusinessService(open(t, dsn))
	if n, err := s.EstimateLive(ctx); err != nil || n != -1 {
		t.Errorf("never analysed: %d, %v; want -1", n, err)
	}
	g := dataset.NewGenerator(2)
	left := 5000
	if _, err := pgtest.CopyBusinesses(ctx, dsn, false, func() (nearby.Business, bool) { left--; return g.Next(), left >= 0 }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EstimateLive(ctx); err != nil || n != 5000 {
		t.Errorf("after VACUUM ANALYZE: %d, %v; want 5000", n, err)
	}
}

// copyStream encodes bs as PostgreSQL's binary COPY of copyLiveSQL.
func copyStream(bs []nearby.Business, categories []string) []byte {
	be := binary.BigEndian
	out := append([]byte(nil), copySignature...)
	out = be.AppendUint32(out, 0)
	out = be.AppendUint32(out, 4) // a header extension, which must be skipped
	out = append(out, "skip"...)
	null := func(out []byte) []byte { return be.AppendUint32(out, 0xffffffff) }
	for i, b := range bs {
		out = be.AppendUint16(out, 9)
		out = be.AppendUint32(out, 8)
		out = be.AppendUint64(out, uint64(b.ID))
		out = be.AppendUint32(out, uint32(len(b.Name)))
		out = append(out, b.Name...)
		out = be.AppendUint32(out, uint32(len(categories[i])))
		out = append(out, categories[i]...)
		out = be.AppendUint32(out, 8)
		out = be.AppendUint64(out, math.Float64bits(b.Lat))
		out = be.AppendUint32(out, 8)
		out = be.AppendUint64(out, math.Float64bits(b.Lon))
		if b.Price == 0 {
			out = null(out)
		} else {
			out = be.AppendUint16(be.AppendUint32(out, 2), uint16(b.Price))
		}
		if !b.Rating.Rated() {
			out = null(out)
		} else {
			out = be.AppendUint16(be.AppendUint32(out, 2), uint16(b.Rating.Tenths()))
		}
		out = be.AppendUint32(be.AppendUint32(out, 4), b.ReviewCount)
		if b.Hours == nil {
			out = null(out)
		} else {
			text, _ := json.Marshal(b.Hours)
			out = be.AppendUint32(out, uint32(1+len(text)))
			out = append(append(out, 1), text...)
		}
	}
	return be.AppendUint16(out, 0xffff)
}

// TestCopyDecoderSplits feeds the decoder a stream cut at random places,
// down to single bytes: rows that straddle writes come out whole.
func TestCopyDecoderSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 12))
	bs := dataset.Generate(500, 3)
	cats := make([]string, len(bs))
	for i, b := range bs {
		cats[i] = b.Category.String()
	}
	bs[7].Name = "" // empty values are fine
	cats[9] = "spaceport"
	decorate(r, bs)
	stream := copyStream(bs, cats)
	for _, maxChunk := range []int{1, 2, 7, 64, 1 << 20} {
		var got []nearby.Business
		d := newCopyDecoder(func(b nearby.Business) error { got = append(got, b); return nil })
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(maxChunk))
			if w, err := d.Write(rest[:n]); err != nil || w != n {
				t.Fatalf("chunks ≤ %d: write %d: %d, %v", maxChunk, n, w, err)
			}
			rest = rest[n:]
		}
		if err := d.finish(); err != nil {
			t.Fatalf("chunks ≤ %d: %v", maxChunk, err)
		}
		want := slices.Clone(bs)
		want[9].Category = nearby.Category(math.MaxUint8)
		if !slices.EqualFunc(got, want, nearby.Business.Equal) {
			t.Fatalf("chunks ≤ %d: decoded %d businesses, differing from the %d encoded", maxChunk, len(got), len(want))
		}
		if checkShared(t, got) == 0 {
			t.Fatal("no business has hours")
		}
	}
}

// decorate gives bs random attributes, NULLs included, with opening hours
// from a small set, each business with a schedule of its own (equal
// schedules at different addresses): sharing on the way back is the
// reader's doing.
func decorate(r *rand.Rand, bs []nearby.Business) {
	docs := []string{cafeHours, barHours, `{"time_zone":"UTC","weekly":{}}`}
	for i := range bs {
		b := &bs[i]
		b.Price = nearby.Price(r.IntN(5))
		b.Rating = nearby.Unrated
		if r.IntN(10) > 0 {
			b.Rating = nearby.RatingOf(r.IntN(51))
		}
		b.ReviewCount = uint32(r.IntN(3)) * uint32(r.Int32N(nearby.MaxReviewCount/2))
		b.Hours = nil
		if k := r.IntN(len(docs) + 1); k < len(docs) {
			b.Hours = schedule(docs[k])
		}
	}
}

// checkShared checks that businesses with equal hours share one schedule,
// and returns how many have hours.
func checkShared(t *testing.T, bs []nearby.Business) int {
	t.Helper()
	byKey := map[string]*hours.Schedule{}
	n := 0
	for _, b := range bs {
		if b.Hours == nil {
			continue
		}
		n++
		if !b.Hours.Known() {
			t.Fatalf("business %d has a non-nil unknown schedule", b.ID)
		}
		if s, ok := byKey[b.Hours.Key()]; !ok {
			byKey[b.Hours.Key()] = b.Hours
		} else if s != b.Hours {
			t.Fatalf("business %d: equal hours at another address (%s)", b.ID, b.Hours)
		}
	}
	return n
}

// TestCopyDecoderRefusesMalformed checks that a stream that is not
// copyLiveSQL's fails with an error, never a panic or a silent short read.
func TestCopyDecoderRefusesMalformed(t *testing.T) {
	bs := dataset.Generate(3, 4)
	for i := range bs {
		bs[i].Price, bs[i].Rating, bs[i].Hours = 1, nearby.RatingOf(40), schedule(barHours)
	}
	cats := []string{"cafe", "bar", "bank"}
	good := copyStream(bs, cats)
	nullField := bytes.Clone(good)
	// The first row's id length (after the 23-byte header and the field count).
	binary.BigEndian.PutUint32(nullField[23+2:], 0xffffffff)
	fiveFields := bytes.Clone(good)
	binary.BigEndian.PutUint16(fiveFields[23:], 5)
	shortID := bytes.Clone(good)
	binary.BigEndian.PutUint32(shortID[23+2:], 4)
	// The first row's fields after the name and category ("cafe").
	attrs := 23 + 2 + 12 + 4 + len(bs[0].Name) + 4 + 4 + 24
	shortPrice := bytes.Clone(good)
	binary.BigEndian.PutUint32(shortPrice[attrs:], 1) // a smallint of 1 byte
	nullReviews := bytes.Clone(good)
	binary.BigEndian.PutUint32(nullReviews[attrs+12:], 0xffffffff)
	jsonbVersion := bytes.Clone(good)
	jsonbVersion[attrs+12+8+4] = 2
	for name, data := range map[string][]byte{
		"signature":     append([]byte("PGCOPY\n\xff\r\n\x01"), good[11:]...),
		"null":          nullField,
		"field count":   fiveFields,
		"short id":      shortID,
		"short price":   shortPrice,
		"null reviews":  nullReviews,
		"jsonb version": jsonbVersion,
		"truncated":     good[:len(good)-9],
		"no trailer":    good[:len(good)-2],
		"after trailer": append(bytes.Clone(good), 0, 5),
		"huge ext":      append(append(bytes.Clone(good[:15]), 0x7f, 0xff, 0xff, 0xff), good[19:]...),
	} {
		d := newCopyDecoder(func(nearby.Business) error { return nil })
		_, err := d.Write(data)
		if err == nil {
			err = d.finish()
		}
		if !errors.Is(err, errCopyFormat) {
			t.Errorf("%s: %v, want errCopyFormat", name, err)
		}
	}
}

func FuzzCopyDecoder(f *testing.F) {
	bs := dataset.Generate(4, 5)
	decorate(rand.New(rand.NewPCG(5, 5)), bs)
	f.Add(copyStream(bs, []string{"cafe", "bar", "bank", "museum"}), 3)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		chunk = 1 + (chunk%64+64)%64 // 1 to 64 bytes a write
		d := newCopyDecoder(func(nearby.Business) error { return nil })
		for len(data) > 0 {
			n := min(len(data), chunk)
			if _, err := d.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
		d.finish()
	})
}

// TestBulkLoadsCarryAttributes loads the same businesses with
// pgtest.CopyBusinesses and Import: both store the attributes.
func TestBulkLoadsCarryAttributes(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(testSeed(t), 13))
	bs := dataset.Generate(2000, r.Uint64())
	decorate(r, bs)
	read := func(s *BusinessService) []nearby.Business {
		var got []nearby.Business
		if _, err := s.CopyLive(ctx, func(b nearby.Business) error { got = append(got, b); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, byID)
		return got
	}
	check := func(name string, got []nearby.Business) {
		t.Helper()
		if len(got) != len(bs) {
			t.Fatalf("%s: %d businesses, want %d", name, len(got), len(bs))
		}
		for i, b := range got {
			want := bs[i]
			want.ID = b.ID // assigned by the table, in load order
			if !b.Equal(want) {
				t.Fatalf("%s: loaded %+v, want %+v", name, b, want)
			}
		}
	}

	dsn := pgtest.NewDatabase(t)
	if _, _, err := Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	i := 0
	if _, err := pgtest.CopyBusinesses(ctx, dsn, false, func() (nearby.Business, bool) {
		i++
		return bs[min(i, len(bs))-1], i <= len(bs)
	}); err != nil {
		t.Fatal(err)
	}
	check("CopyBusinesses", read(NewBusinessService(open(t, dsn))))

	s, db := freshService(t)
	i = 0
	if _, err := Import(ctx, db, 1, func() (nearby.Business, bool, error) {
		i++
		return bs[min(i, len(bs))-1], i <= len(bs), nil
	}); err != nil {
		t.Fatal(err)
	}
	check("Import", read(s))
	// Import validates as owner-api does.
	bad := bs[0]
	bad.Price = 7
	_, err := Import(ctx, db, 1, func() (nearby.Business, bool, error) { return bad, true, nil })
	wantCode(t, err, nearby.EINVALID)
}

// TestImportStampsWithServerClock checks that imported rows are stamped
// by the server when the load starts, as the change feed's stamps must be:
// not by the importing process, whose clock may be off the server's and
// which takes its time before the COPY begins (here: waiting for a
// connection).
func TestImportStampsWithServerClock(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Primary: sharedDSN, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := NewBusinessService(db)
	owner := newOwner()
	held, err := db.primary.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		n := 0
		_, err := Import(ctx, db, owner, func() (nearby.Business, bool, error) {
			n++
			return nearby.Business{Name: "imported", Category: nearby.Cafe, Lat: 48.8566, Lon: 2.3522}, n <= 3, nil
		})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // Import waits for the connection
	var released time.Time
	if err := held.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&released); err != nil {
		t.Fatal(err)
	}
	held.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs, _, err := s.List(ctx, owner, 0, 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("imported %d, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.UpdatedAt.Before(released) || !r.CreatedAt.Equal(r.UpdatedAt) {
			t.Errorf("business %d stamped %v (created %v), before the load could start at %v", r.ID, r.UpdatedAt, r.CreatedAt, released)
		}
	}
}
