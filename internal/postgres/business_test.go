package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geohash"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/postgres/pgtest"
)

func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	cur, latest, err := SchemaVersion(ctx, dsn)
	if err != nil || cur != 0 || latest < 1 {
		t.Fatalf("fresh database: version %d of %d, %v", cur, latest, err)
	}
	// Several servers starting at once: each migration is applied once.
	var wg sync.WaitGroup
	applied := make([]int, 3)
	errs := make([]error, 3)
	for i := range applied {
		wg.Go(func() {
			ms, _, err := Migrate(ctx, dsn, nil)
			applied[i], errs[i] = len(ms), err
		})
	}
	wg.Wait()
	total := 0
	for i := range applied {
		if errs[i] != nil {
			t.Fatalf("concurrent migrate %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	if total != int(latest) {
		t.Errorf("concurrent migrations applied %d in all, want %d", total, latest)
	}
	ms, v, err := Migrate(ctx, dsn, nil)
	if err != nil || len(ms) != 0 || v != latest {
		t.Errorf("second migrate: applied %v, version %d, %v; want nothing, %d", ms, v, err, latest)
	}
	if cur, _, _ := SchemaVersion(ctx, dsn); cur != latest {
		t.Errorf("schema version %d, want %d", cur, latest)
	}
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s, db := sharedService(t)
	owner := newOwner()

	rec, replayed, err := s.Create(ctx, owner, "", input("Blue Bottle"))
	if err != nil || replayed {
		t.Fatalf("create: %v, replayed %v", err, replayed)
	}
	if rec.ID <= 0 || rec.OwnerID != owner || rec.Version != 1 || rec.Name != "Blue Bottle" || rec.Category != nearby.Cafe ||
		rec.Lat != 40.758 || rec.Lon != -73.9855 || rec.Country != "US" || !slices.Equal(rec.Photos, []string{"https://example.com/a.jpg"}) ||
		rec.CreatedAt.IsZero() || !rec.UpdatedAt.Equal(rec.CreatedAt) || rec.DeletedAt != nil {
		t.Fatalf("created %+v", rec)
	}
	var gh string
	if err := db.primary.QueryRow(ctx, `SELECT geohash FROM businesses WHERE id = $1`, rec.ID).Scan(&gh); err != nil {
		t.Fatal(err)
	}
	if want := geohash.Encode(40.758, -73.9855, 12); gh != want {
		t.Errorf("stored geohash %q, want %q", gh, want)
	}

	got, err := s.Get(ctx, owner, rec.ID)
	if err != nil || !equalRecords(got, rec) {
		t.Fatalf("get: %+v, %v; want %+v", got, err, rec)
	}

	// Replace clears what is not sent.
	in := nearby.BusinessInput{Name: ptr("Blue Bottle Coffee"), Category: ptr(nearby.Bakery), Lat: ptr(40.7), Lon: ptr(-74.0)}
	rep, err := s.Replace(ctx, owner, rec.ID, 1, in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != 2 || rep.Name != "Blue Bottle Coffee" || rep.Category != nearby.Bakery || rep.Address != "" ||
		rep.Country != "" || len(rep.Photos) != 0 || !rep.CreatedAt.Equal(rec.CreatedAt) || rep.UpdatedAt.Before(rec.UpdatedAt) {
		t.Errorf("replaced %+v", rep)
	}
	// Patch keeps what is not sent.
	pat, err := s.Patch(ctx, owner, rec.ID, 2, nearby.BusinessInput{City: ptr("Brooklyn"), Photos: ptr([]string{"http://x.example/1.png"})})
	if err != nil {
		t.Fatal(err)
	}
	if pat.Version != 3 || pat.Name != "Blue Bottle Coffee" || pat.City != "Brooklyn" || pat.Lat != 40.7 || len(pat.Photos) != 1 {
		t.Errorf("patched %+v", pat)
	}
	// A patch that changes nothing keeps the version.
	same, err := s.Patch(ctx, owner, rec.ID, 3, nearby.BusinessInput{City: ptr("Brooklyn")})
	if err != nil || same.Version != 3 || !same.UpdatedAt.Equal(pat.UpdatedAt) {
		t.Errorf("no-op patch: %+v, %v", same, err)
	}
	// Stale versions are refused.
	_, err = s.Patch(ctx, owner, rec.ID, 2, nearby.BusinessInput{City: ptr("Queens")})
	wantCode(t, err, nearby.EPRECONDITION)
	wantCode(t, s.Delete(ctx, owner, rec.ID, 2), nearby.EPRECONDITION)

	if err := s.Delete(ctx, owner, rec.ID, 3); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, owner, rec.ID)
	wantCode(t, err, nearby.ENOTFOUND)
	wantCode(t, s.Delete(ctx, owner, rec.ID, 0), nearby.ENOTFOUND)
	_, err = s.Patch(ctx, owner, rec.ID, 0, nearby.BusinessInput{City: ptr("Queens")})
	wantCode(t, err, nearby.ENOTFOUND)

	// Soft delete: the row stays, with deleted_at and a new version.
	var deletedAt *time.Time
	var version int64
	if err := db.primary.QueryRow(ctx, `SELECT deleted_at, version FROM businesses WHERE id = $1`, rec.ID).Scan(&deletedAt, &version); err != nil {
		t.Fatal(err)
	}
	if deletedAt == nil || version != 4 {
		t.Errorf("after delete: deleted_at %v, version %d; want set, 4", deletedAt, version)
	}
}

func equalRecords(a, b *nearby.BusinessRecord) bool {
	return sameContent(a, b) && a.ID == b.ID && a.OwnerID == b.OwnerID && a.Version == b.Version &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && (a.DeletedAt == nil) == (b.DeletedAt == nil)
}

func TestValidationBeforeStore(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	_, _, err := s.Create(ctx, owner, "", nearby.BusinessInput{Name: ptr("")})
	wantCode(t, err, nearby.EINVALID)
	var de *nearby.Error
	errors.As(err, &de)
	var names []string
	for _, p := range de.Params {
		names = append(names, p.Name)
	}
	if want := []string{"name", "category", "lat", "lon"}; !slices.Equal(names, want) {
		t.Errorf("invalid params %v, want %v", names, want)
	}
	_, _, err = s.Create(ctx, owner, "bad\nkey", input("x"))
	wantCode(t, err, nearby.EINVALID)
	_, _, err = s.Create(ctx, 0, "", input("x"))
	wantCode(t, err, nearby.EUNAUTHORIZED)
	if recs, _, _ := s.List(ctx, owner, 0, 10); len(recs) != 0 {
		t.Errorf("refused creates stored %d records", len(recs))
	}
}

func TestCreateIdempotent(t *testing.T) {
	ctx := context.Background()
	s, db := sharedService(t)
	owner, other := newOwner(), newOwner()

	first, replayed, err := s.Create(ctx, owner, "key-1", input("Once"))
	if err != nil || replayed {
		t.Fatalf("first: %v %v", err, replayed)
	}
	// Same input spelled differently (an optional field left out instead of
	// sent empty) is the same request.
	in := input("Once")
	again, replayed, err := s.Create(ctx, owner, "key-1", in)
	if err != nil || !replayed || !equalRecords(again, first) {
		t.Fatalf("retry: %+v, replayed %v, %v; want %+v", again, replayed, err, first)
	}
	// Later changes do not alter the replayed answer: it is the first result.
	if _, err := s.Patch(ctx, owner, first.ID, 1, nearby.BusinessInput{City: ptr("Elsewhere")}); err != nil {
		t.Fatal(err)
	}
	again, _, err = s.Create(ctx, owner, "key-1", in)
	if err != nil || again.City != first.City || again.Version != 1 {
		t.Errorf("replay after patch: %+v, %v", again, err)
	}
	// The same key with another body is refused and creates nothing.
	_, _, err = s.Create(ctx, owner, "key-1", input("Twice"))
	wantCode(t, err, nearby.EKEYREUSED)
	// Keys are per owner.
	theirs, replayed, err := s.Create(ctx, other, "key-1", input("Twice"))
	if err != nil || replayed || theirs.ID == first.ID {
		t.Errorf("other owner, same key: %+v, replayed %v, %v", theirs, replayed, err)
	}
	// Concurrent retries with one key create one business.
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			r, _, err := s.Create(ctx, owner, "key-2", input("Raced"))
			if err == nil {
				ids[i] = r.ID
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("concurrent create %d: id %d, %v; want id %d", i, ids[i], errs[i], ids[0])
		}
	}
	var n int
	if err := db.primary.QueryRow(ctx, `SELECT count(*) FROM businesses WHERE owner_id = $1`, owner).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("owner has %d businesses, want 2", n)
	}
}

func TestConcurrentStaleUpdates(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	ops := map[string]func(id int64, i int) error{
		"patch": func(id int64, i int) error {
			_, err := s.Patch(ctx, owner, id, 1, nearby.BusinessInput{Name: ptr(fmt.Sprintf("writer %d", i))})
			return err
		},
		"replace": func(id int64, i int) error {
			_, err := s.Replace(ctx, owner, id, 1, input(fmt.Sprintf("writer %d", i)))
			return err
		},
		"delete": func(id int64, i int) error { return s.Delete(ctx, owner, id, 1) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			rec, _, err := s.Create(ctx, owner, "", input("contended"))
			if err != nil {
				t.Fatal(err)
			}
			errs := atOnce(16, func(i int) error { return op(rec.ID, i) })
			won := 0
			for _, err := range errs {
				switch code := nearby.ErrorCode(err); code {
				case "":
					won++
				case nearby.EPRECONDITION:
				case nearby.ENOTFOUND:
					if name != "delete" {
						t.Errorf("unexpected %v", err)
					}
				default:
					t.Errorf("unexpected %v", err)
				}
			}
			if won != 1 {
				t.Errorf("%d writers won, want exactly 1", won)
			}
		})
	}
}

// TestConcurrentStarUpdates: updates based on whatever version is current
// (If-Match: *) do not lose races: each applies to the version before it,
// none is refused, and none is lost.
func TestConcurrentStarUpdates(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	rec, _, err := s.Create(ctx, owner, "", input("contended"))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	errs := atOnce(writers, func(i int) (err error) {
		if i%2 == 0 {
			_, err = s.Patch(ctx, owner, rec.ID, 0, nearby.BusinessInput{Name: ptr(fmt.Sprintf("writer %d", i))})
		} else {
			_, err = s.Replace(ctx, owner, rec.ID, 0, input(fmt.Sprintf("writer %d", i)))
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	// Every writer set another name than the one before it: one version each.
	if cur, err := s.Get(ctx, owner, rec.ID); err != nil || cur.Version != 1+writers {
		t.Errorf("after %d updates: %+v, %v; want version %d", writers, cur, err, 1+writers)
	}
}

// TestWritesUnderStricterDefaultIsolation runs the contended writes of the
// tests above on a database whose default isolation is SERIALIZABLE (a
// DBA's choice the store cannot rule out): writes pin READ COMMITTED, so
// the outcomes are the same (one stale writer wins, the others get 412;
// every If-Match: * update applies; one key, one business), not
// serialization failures (503).
func TestWritesUnderStricterDefaultIsolation(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	var name string
	if err := db.primary.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if _, err := db.primary.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+
		" SET default_transaction_isolation = 'serializable'"); err != nil {
		t.Fatal(err)
	}
	db.primary.Reset() // new sessions take the new default, unless they set their own
	var set bool
	if err := db.primary.QueryRow(ctx, `SELECT 'default_transaction_isolation=serializable' = ANY(s.setconfig)
		FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1`, name).Scan(&set); err != nil || !set {
		t.Fatalf("database default isolation not set: %v", err)
	}
	const owner, writers = 5, 16
	create := func(name string) *nearby.BusinessRecord {
		rec, _, err := s.Create(ctx, owner, "", input(name))
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	star, stale, gone := create("star"), create("stale"), create("gone")
	for what, op := range map[string]func(i int) error{
		"If-Match: *": func(i int) error {
			_, err := s.Patch(ctx, owner, star.ID, 0, nearby.BusinessInput{Name: ptr(fmt.Sprintf("writer %d", i))})
			return err
		},
		"stale": func(i int) error {
			_, err := s.Patch(ctx, owner, stale.ID, 1, nearby.BusinessInput{Name: ptr(fmt.Sprintf("writer %d", i))})
			return err
		},
		"delete": func(i int) error { return s.Delete(ctx, owner, gone.ID, 1) },
		"key": func(i int) error {
			_, _, err := s.Create(ctx, owner, "one-key", input("keyed"))
			return err
		},
		"create": func(i int) error {
			_, _, err := s.Create(ctx, owner, "", input(fmt.Sprintf("new %d", i)))
			return err
		},
	} {
		won := 0
		for _, err := range atOnce(writers, op) {
			switch nearby.ErrorCode(err) {
			case "":
				won++
			case nearby.EPRECONDITION, nearby.ENOTFOUND:
			default:
				t.Errorf("%s: %v", what, err)
			}
		}
		if want := map[bool]int{true: writers, false: 1}[what == "If-Match: *" || what == "key" || what == "create"]; won != want {
			t.Errorf("%s: %d of %d succeeded, want %d", what, won, writers, want)
		}
	}
	if cur, err := s.Get(ctx, owner, star.ID); err != nil || cur.Version != 1+writers {
		t.Errorf("after %d If-Match: * updates: %+v, %v", writers, cur, err)
	}
	var n int
	if err := db.primary.QueryRow(ctx, "SELECT count(*) FROM businesses WHERE owner_id = $1 AND name = 'keyed'", owner).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d businesses for one idempotency key (%v)", n, err)
	}
}

// atOnce runs op(0) to op(n-1) concurrently, released together, and
// returns their errors.
func atOnce(n int, op func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = op(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestCrossOwner(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	alice, bob := newOwner(), newOwner()
	rec, _, err := s.Create(ctx, alice, "", input("Alice's"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, bob, rec.ID)
	wantCode(t, err, nearby.ENOTFOUND)
	_, err = s.Replace(ctx, bob, rec.ID, 1, input("Bob's now"))
	wantCode(t, err, nearby.ENOTFOUND)
	_, err = s.Patch(ctx, bob, rec.ID, 1, nearby.BusinessInput{Name: ptr("Bob's now")})
	wantCode(t, err, nearby.ENOTFOUND)
	wantCode(t, s.Delete(ctx, bob, rec.ID, 1), nearby.ENOTFOUND)
	if recs, _, err := s.List(ctx, bob, 0, 100); err != nil || len(recs) != 0 {
		t.Errorf("bob lists %d, %v", len(recs), err)
	}
	if got, err := s.Get(ctx, alice, rec.ID); err != nil || !equalRecords(got, rec) {
		t.Errorf("alice's business changed: %+v, %v", got, err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	var ids []int64
	for i := range 25 {
		r, _, err := s.Create(ctx, owner, "", input(fmt.Sprintf("shop %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if err := s.Delete(ctx, owner, ids[3], 0); err != nil {
		t.Fatal(err)
	}
	want := slices.Delete(slices.Clone(ids), 3, 4)
	var got []int64
	var after int64
	pages := 0
	for {
		recs, next, err := s.List(ctx, owner, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if next == 0 {
			break
		}
		after = next
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("listed %v in %d pages, want %v in 3", got, pages, want)
	}
	_, _, err := s.List(ctx, owner, 0, 0)
	wantCode(t, err, nearby.EINVALID)
}

// TestVerbatim stores strings that look like SQL, format verbs, escapes
// and far-away Unicode, and reads back exactly what was sent.
func TestVerbatim(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	for i, str := range []string{
		"'; DROP TABLE businesses; --",
		`Robert'); DROP TABLE students;--`,
		`" OR 1=1 --`,
		`$1 $$ %s %d %% _ \ \\ \' \"`,
		"100% _under_ score LIKE '%'",
		"Café Ünïcödé 咖啡 ☕ 🍩",
		"  spaces kept  ",
		"E'\\x00' || chr(0)",
	} {
		t.Run(str, func(t *testing.T) {
			in := input(str)
			in.Address, in.City, in.Description = ptr(str), ptr(str), ptr(str+"\nsecond line")
			key := fmt.Sprint("verbatim-", i)
			if nearby.ValidIdempotencyKey(str) {
				key = str // SQL-looking keys are stored verbatim too
			}
			rec, _, err := s.Create(ctx, owner, key, in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, owner, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != str || got.Address != str || got.City != str || got.Description != str+"\nsecond line" {
				t.Errorf("read back %q / %q / %q / %q", got.Name, got.Address, got.City, got.Description)
			}
			if again, replayed, err := s.Create(ctx, owner, key, in); err != nil || !replayed || again.ID != rec.ID {
				t.Errorf("replay with key %q: %v %v", key, replayed, err)
			}
		})
	}
	if _, _, err := s.List(ctx, owner, 0, 1); err != nil {
		t.Errorf("table gone? %v", err)
	}
}

// TestDatabaseConstraints writes records that skip Go validation: the
// database refuses each, and the error names the field.
func TestDatabaseConstraints(t *testing.T) {
	ctx := context.Background()
	_, db := sharedService(t)
	owner := newOwner()
	valid := func() nearby.BusinessRecord {
		var r nearby.BusinessRecord
		in := input("ok")
		in.Apply(&r)
		r.OwnerID = owner
		return r
	}
	r := valid()
	if _, err := insert(ctx, db.primary, &r); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}
	tests := []struct {
		field  string
		change func(*nearby.BusinessRecord)
	}{
		{"owner_id", func(r *nearby.BusinessRecord) { r.OwnerID = 0 }},
		{"name", func(r *nearby.BusinessRecord) { r.Name = "" }},
		{"name", func(r *nearby.BusinessRecord) { r.Name = "   " }},
		{"name", func(r *nearby.BusinessRecord) { r.Name = strings.Repeat("é", 201) }},
		{"name", func(r *nearby.BusinessRecord) { r.Name = "tab\there" }},
		{"category", func(r *nearby.BusinessRecord) { r.Category = 200 }},
		{"lat", func(r *nearby.BusinessRecord) { r.Lat = 90.0000001 }},
		{"lon", func(r *nearby.BusinessRecord) { r.Lon = -180.5 }},
		{"address", func(r *nearby.BusinessRecord) { r.Address = strings.Repeat("a", 201) }},
		{"city", func(r *nearby.BusinessRecord) { r.City = strings.Repeat("a", 101) }},
		{"state", func(r *nearby.BusinessRecord) { r.State = strings.Repeat("a", 101) }},
		{"country", func(r *nearby.BusinessRecord) { r.Country = "usa" }},
		{"zip", func(r *nearby.BusinessRecord) { r.Zip = strings.Repeat("1", 21) }},
		{"description", func(r *nearby.BusinessRecord) { r.Description = strings.Repeat("é", 2561) }},
		{"photos", func(r *nearby.BusinessRecord) { r.Photos = make([]string, 21) }},
		{"photos", func(r *nearby.BusinessRecord) { r.Photos = []string{"ftp://example.com/a.jpg"} }},
		{"photos", func(r *nearby.BusinessRecord) { r.Photos = []string{"https:///nohost"} }},
		{"photos", func(r *nearby.BusinessRecord) { r.Photos = []string{"https://example.com/a b.jpg"} }},
		{"photos", func(r *nearby.BusinessRecord) { r.Photos = []string{"https://x/" + strings.Repeat("a", 2048)} }},
		{"price", func(r *nearby.BusinessRecord) { r.Price = 5 }},
		{"rating", func(r *nearby.BusinessRecord) { r.Rating = nearby.RatingOf(51) }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			r := valid()
			tt.change(&r)
			if r.Category.Valid() && r.OwnerID > 0 && r.Validate() == nil {
				t.Fatalf("test case is valid in Go too")
			}
			_, err := insert(ctx, db.primary, &r)
			err = translate(err, "insert")
			wantCode(t, err, nearby.EINVALID)
			var de *nearby.Error
			errors.As(err, &de)
			// Out-of-range coordinates have no geohash: that check may fire first.
			if len(de.Params) != 1 || (de.Params[0].Name != tt.field && !(de.Params[0].Name == "geohash" && (tt.field == "lat" || tt.field == "lon"))) {
				t.Errorf("params %v, want %s", de.Params, tt.field)
			}
		})
	}
	// Values Go cannot even hold, written in SQL.
	for _, tt := range []struct{ field, set string }{
		{"price", "price = 0"}, {"price", "price = -1"}, {"rating", "rating = -1"},
		{"review_count", "review_count = -1"}, {"review_count", "review_count = NULL"},
		{"hours", `hours = '"Europe/Paris"'`}, {"hours", `hours = 'null'`}, {"hours", `hours = '{}'`},
		{"hours", `hours = '{"time_zone": 1}'`}, {"hours", `hours = '[{"time_zone": "UTC"}]'`},
	} {
		t.Run(tt.set, func(t *testing.T) {
			r := valid()
			rec, err := insert(ctx, db.primary, &r)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.primary.Exec(ctx, `UPDATE businesses SET `+tt.set+` WHERE id = $1`, rec.ID)
			err = translate(err, "update")
			wantCode(t, err, nearby.EINVALID)
			var de *nearby.Error
			errors.As(err, &de)
			if len(de.Params) != 1 || de.Params[0].Name != tt.field {
				t.Errorf("params %v, want %s", de.Params, tt.field)
			}
		})
	}
	// Every category of the domain is accepted.
	for _, c := range nearby.Categories() {
		r := valid()
		r.Category = c
		if _, err := insert(ctx, db.primary, &r); err != nil {
			t.Errorf("category %s refused: %v", c, err)
		}
	}
}

// TestAttributes stores, reads, patches and clears the attributes: not set
// is NULL (review_count 0), hours are compared by value, and the owner's
// reads carry them.
func TestAttributes(t *testing.T) {
	ctx := context.Background()
	s, db := sharedService(t)
	owner := newOwner()
	type stored struct {
		price, rating *int16
		reviews       int32
		hours         map[string]any
	}
	column := func(id int64) stored {
		t.Helper()
		var st stored
		if err := db.primary.QueryRow(ctx, `SELECT price, rating, review_count, hours FROM businesses WHERE id = $1`, id).
			Scan(&st.price, &st.rating, &st.reviews, &st.hours); err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Everything set.
	rec, _, err := s.Create(ctx, owner, "", input("attributes"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Price != 2 || rec.Rating != nearby.RatingOf(46) || rec.ReviewCount != 1287 || rec.Hours == nil || !rec.Hours.Equal(schedule(cafeHours)) {
		t.Fatalf("created %+v", rec)
	}
	st := column(rec.ID)
	if st.price == nil || *st.price != 2 || st.rating == nil || *st.rating != 46 || st.reviews != 1287 ||
		st.hours["time_zone"] != "America/New_York" || st.hours["weekly"] == nil {
		t.Errorf("stored %+v", st)
	}
	got, err := s.Get(ctx, owner, rec.ID)
	if err != nil || !equalRecords(got, rec) {
		t.Fatalf("get: %+v, %v", got, err)
	}
	// A patch with the same hours at another address changes nothing.
	same, err := s.Patch(ctx, owner, rec.ID, 1, nearby.BusinessInput{Hours: schedule(cafeHours), Rating: ptr(nearby.RatingOf(46))})
	if err != nil || same.Version != 1 {
		t.Fatalf("no-op patch: %+v, %v", same, err)
	}
	// A patch changes what it sends and keeps the rest; a rating of 0 stars is a rating.
	pat, err := s.Patch(ctx, owner, rec.ID, 1, nearby.BusinessInput{Rating: ptr(nearby.RatingOf(0)), Hours: schedule(barHours)})
	if err != nil || pat.Version != 2 || pat.Price != 2 || pat.Rating != nearby.RatingOf(0) || !pat.Rating.Rated() ||
		pat.ReviewCount != 1287 || !pat.Hours.Equal(schedule(barHours)) {
		t.Fatalf("patched %+v, %v", pat, err)
	}
	if st := column(rec.ID); st.rating == nil || *st.rating != 0 || st.hours["time_zone"] != "Europe/Paris" {
		t.Errorf("stored after patch %+v", st)
	}
	// The zero values clear: NULL, and 0 reviews.
	cleared, err := s.Patch(ctx, owner, rec.ID, 2, nearby.BusinessInput{Price: ptr(nearby.Price(0)),
		Rating: ptr(nearby.Unrated), ReviewCount: ptr(uint32(0)), Hours: &hours.Schedule{}})
	if err != nil || cleared.Version != 3 || cleared.Price != 0 || cleared.Rating.Rated() || cleared.ReviewCount != 0 || cleared.Hours != nil {
		t.Fatalf("cleared %+v, %v", cleared, err)
	}
	if st := column(rec.ID); st.price != nil || st.rating != nil || st.reviews != 0 || st.hours != nil {
		t.Errorf("stored after clearing %+v", st)
	}
	// A replace clears what it does not send.
	if _, err := s.Patch(ctx, owner, rec.ID, 3, nearby.BusinessInput{Price: ptr(nearby.MaxPrice), Hours: schedule(barHours)}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Replace(ctx, owner, rec.ID, 4, nearby.BusinessInput{Name: ptr("x"), Category: ptr(nearby.Bar), Lat: ptr(1.0), Lon: ptr(2.0)})
	if err != nil || rep.Price != 0 || rep.Rating.Rated() || rep.ReviewCount != 0 || rep.Hours != nil {
		t.Fatalf("replaced %+v, %v", rep, err)
	}
	if st := column(rec.ID); st.price != nil || st.rating != nil || st.reviews != 0 || st.hours != nil {
		t.Errorf("stored after replace %+v", st)
	}
	// Invalid values never reach the database.
	_, err = s.Patch(ctx, owner, rec.ID, 0, nearby.BusinessInput{Price: ptr(nearby.Price(5)), ReviewCount: ptr(uint32(1 << 31))})
	wantCode(t, err, nearby.EINVALID)
}

// TestCreateIdempotentAttributes replays creates whose hours are spelled
// differently, and refuses a key reused with other attributes.
func TestCreateIdempotentAttributes(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	first, _, err := s.Create(ctx, owner, "k", input("Once"))
	if err != nil {
		t.Fatal(err)
	}
	in := input("Once")
	// The same hours, written another way: midnight as 00:00, days in another order.
	in.Hours = schedule(`{"weekly":{"sat":[["08:00","16:00"]],"mon":[["07:00","19:00"]],"tue":[["07:00","19:00"]],` +
		`"wed":[["07:00","19:00"]],"thu":[["07:00","19:00"]],"fri":[["07:00","19:00"]],"sun":[]},"time_zone":"America/New_York"}`)
	again, replayed, err := s.Create(ctx, owner, "k", in)
	if err != nil || !replayed || !equalRecords(again, first) {
		t.Fatalf("replay: %+v, %v, %v; want %+v", again, replayed, err, first)
	}
	for name, change := range map[string]func(*nearby.BusinessInput){
		"price":        func(in *nearby.BusinessInput) { in.Price = ptr(nearby.Price(3)) },
		"rating":       func(in *nearby.BusinessInput) { in.Rating = nil },
		"review_count": func(in *nearby.BusinessInput) { in.ReviewCount = ptr(uint32(1288)) },
		"hours":        func(in *nearby.BusinessInput) { in.Hours = schedule(barHours) },
	} {
		in := input("Once")
		change(&in)
		if _, _, err := s.Create(ctx, owner, "k", in); nearby.ErrorCode(err) != nearby.EKEYREUSED {
			t.Errorf("key reused with another %s: %v", name, err)
		}
	}
	// A request without attributes hashes as before they existed.
	plain := nearby.BusinessRecord{OwnerID: 1, Name: "x", Category: nearby.Cafe, Photos: []string{}}
	data, _ := json.Marshal(toStored(&plain))
	if want := `{"owner_id":1,"name":"x","category":"cafe","lat":0,"lon":0,"address":"","city":"","state":"",` +
		`"country":"","zip":"","description":"","photos":[]}`; string(data) != want {
		t.Errorf("request without attributes hashes\n%s\nwant\n%s", data, want)
	}
}

// TestMigrationKeepsRows applies the first migration, stores a business,
// then the attributes' migration: the row has no attributes. Down and up
// again work.
func TestMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	pc, err := parseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	sqlDB := stdlib.OpenDB(*pc.ConnConfig)
	defer sqlDB.Close()
	p, err := provider(sqlDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(ctx, `INSERT INTO businesses (owner_id, name, category, lat, lon, geohash)
		VALUES (1, 'old', 'cafe', 1, 2, 's01mtw037ms0')`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	s := NewBusinessService(open(t, dsn))
	rec, err := s.Get(ctx, 1, 1)
	if err != nil || rec.Price != 0 || rec.Rating.Rated() || rec.ReviewCount != 0 || rec.Hours != nil || rec.Name != "old" {
		t.Fatalf("old row after the migration: %+v, %v", rec, err)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

func TestTranslate(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		code  string
		param string
	}{
		{"nil", nil, "", ""},
		{"no rows", pgx.ErrNoRows, nearby.ENOTFOUND, ""},
		{"unique", &pgconn.PgError{Code: "23505"}, nearby.ECONFLICT, ""},
		{"check", &pgconn.PgError{Code: "23514", TableName: "businesses", ConstraintName: "businesses_lat_check"}, nearby.EINVALID, "lat"},
		{"not null", &pgconn.PgError{Code: "23502", TableName: "businesses", ColumnName: "name"}, nearby.EINVALID, "name"},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, nearby.EUNAVAILABLE, ""},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, nearby.EUNAVAILABLE, ""},
		{"connection failure", &pgconn.PgError{Code: "08006"}, nearby.EUNAVAILABLE, ""},
		{"too many connections", &pgconn.PgError{Code: "53300"}, nearby.EUNAVAILABLE, ""},
		{"serialization", &pgconn.PgError{Code: "40001"}, nearby.EUNAVAILABLE, ""},
		{"syntax", &pgconn.PgError{Code: "42601"}, nearby.EINTERNAL, ""},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, nearby.EUNAVAILABLE, ""},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), nearby.EUNAVAILABLE, ""},
		{"conn closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), nearby.EUNAVAILABLE, ""},
		{"domain", nearby.Errorf(nearby.EPRECONDITION, "stale"), nearby.EPRECONDITION, ""},
		{"other", errors.New("boom"), nearby.EINTERNAL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := translate(tt.err, "op")
			if got := nearby.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q, want %q (%v)", got, tt.code, err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("cause lost: %v", err)
			}
			if tt.param != "" {
				var de *nearby.Error
				errors.As(err, &de)
				if len(de.Params) != 1 || de.Params[0].Name != tt.param {
					t.Errorf("params %v, want %s", de.Params, tt.param)
				}
			}
		})
	}
}

// TestUnavailable points the store at a port nobody listens on: every
// method fails fast with EUNAVAILABLE.
func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db := open(t, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2")
	s := NewBusinessService(db)
	ctx := context.Background()
	start := time.Now()
	_, _, err = s.Create(ctx, 1, "", input("x"))
	wantCode(t, err, nearby.EUNAVAILABLE)
	_, _, err = s.Create(ctx, 1, "k", input("x"))
	wantCode(t, err, nearby.EUNAVAILABLE)
	_, err = s.Get(ctx, 1, 1)
	wantCode(t, err, nearby.EUNAVAILABLE)
	_, err = s.Patch(ctx, 1, 1, 1, nearby.BusinessInput{Name: ptr("y")})
	wantCode(t, err, nearby.EUNAVAILABLE)
	wantCode(t, s.Delete(ctx, 1, 1, 0), nearby.EUNAVAILABLE)
	wantCode(t, db.Ping(ctx), nearby.EUNAVAILABLE)
	_, err = s.Nearby(ctx, nearby.SearchQuery{Lat: 1, Lon: 1, RadiusM: 100, Limit: 1})
	wantCode(t, err, nearby.EUNAVAILABLE)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failing took %v", d)
	}
	_, _, err = Migrate(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable", nil)
	wantCode(t, err, nearby.EUNAVAILABLE)
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	owner := newOwner()
	var ids []int64
	for i := range 4 {
		r, _, err := s.Create(ctx, owner, fmt.Sprint("k", i), input(fmt.Sprint("shop ", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	for _, id := range ids[:3] {
		if err := s.Delete(ctx, owner, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Two were deleted long ago.
	if _, err := db.primary.Exec(ctx, `UPDATE businesses SET deleted_at = now() - interval '40 days' WHERE id = ANY($1)`, ids[:2]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.primary.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE key = 'k0'`); err != nil {
		t.Fatal(err)
	}
	nb, nk, err := s.Purge(ctx, time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour))
	if err != nil || nb != 2 || nk != 1 {
		t.Fatalf("purge: %d businesses, %d keys, %v; want 2, 1", nb, nk, err)
	}
	var left []int64
	rows, _ := db.primary.Query(ctx, `SELECT id FROM businesses ORDER BY id`)
	left, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || !slices.Equal(left, ids[2:]) {
		t.Errorf("left %v, %v; want %v", left, err, ids[2:])
	}
}

// TestReplicaRouting points the replica at a dead port: owners' writes and
// reads (primary) still work, the read path (replica) is unavailable.
func TestReplicaRouting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "postgres://postgres@" + ln.Addr().String() + "/test?sslmode=disable"
	ln.Close()
	db, err := Open(context.Background(), Config{Primary: sharedDSN, Replica: dead})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := NewBusinessService(db)
	ctx := context.Background()
	owner := newOwner()
	rec, _, err := s.Create(ctx, owner, "", input("routed"))
	if err != nil {
		t.Fatalf("create on the primary: %v", err)
	}
	if _, err := s.Get(ctx, owner, rec.ID); err != nil {
		t.Errorf("owner's read goes to the primary: %v", err)
	}
	_, err = s.Nearby(ctx, nearby.SearchQuery{Lat: 40.758, Lon: -73.9855, RadiusM: 100})
	wantCode(t, err, nearby.EUNAVAILABLE)
	_, err = s.StreamLive(ctx, func(nearby.Business) error { return nil })
	wantCode(t, err, nearby.EUNAVAILABLE)
	_, err = s.Changes(ctx, time.Time{}, 0, 10)
	wantCode(t, err, nearby.EUNAVAILABLE)
	if st := db.Stats(); st.Total < 1 || st.Acquires < 1 {
		t.Errorf("primary pool stats %+v", st)
	}
}
