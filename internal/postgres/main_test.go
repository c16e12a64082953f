package postgres

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/postgres/pgtest"
)

// sharedDSN is a migrated database for the whole package, for tests whose
// reads are scoped to an owner; each such test uses owners of its own.
// Tests that read across owners get a database of their own (freshService).
var sharedDSN string

func TestMain(m *testing.M) {
	ctx := context.Background()
	dsn, drop, err := pgtest.CreateDatabase(ctx, pgtest.AdminDSN())
	if err != nil {
		fmt.Fprintln(os.Stderr, "internal/postgres tests need PostgreSQL:", err)
		os.Exit(1)
	}
	code := 1
	if _, _, err := Migrate(ctx, dsn, nil); err != nil {
		fmt.Fprintln(os.Stderr, "migrate test database:", err)
	} else {
		sharedDSN = dsn
		code = m.Run()
	}
	if err := drop(); err != nil {
		fmt.Fprintln(os.Stderr, "drop test database:", err)
	}
	os.Exit(code)
}

var lastOwner atomic.Int64

// newOwner returns an owner id no other test in this run uses.
func newOwner() int64 { return lastOwner.Add(1) + time.Now().UnixNano()%1_000_000*1000 }

// open opens dsn and closes it when t ends.
func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{Primary: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// sharedService is the store over the package's shared database.
func sharedService(t *testing.T) (*BusinessService, *DB) {
	t.Helper()
	db := open(t, sharedDSN)
	return NewBusinessService(db), db
}

// freshService is the store over a new, migrated database of t's own.
func freshService(t *testing.T) (*BusinessService, *DB) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := Migrate(context.Background(), dsn, nil); err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	return NewBusinessService(db), db
}

func ptr[T any](v T) *T { return &v }

// schedule returns the hours of a JSON document, which must be valid.
func schedule(doc string) *hours.Schedule {
	var s hours.Schedule
	if err := s.UnmarshalJSON([]byte(doc)); err != nil || !s.Known() {
		panic(fmt.Sprintf("schedule %s: %v", doc, err))
	}
	return &s
}

// Opening hours of the tests: a café's, and a bar's past midnight.
const (
	cafeHours = `{"time_zone":"America/New_York","weekly":{"mon":[["07:00","19:00"]],"tue":[["07:00","19:00"]],` +
		`"wed":[["07:00","19:00"]],"thu":[["07:00","19:00"]],"fri":[["07:00","19:00"]],"sat":[["08:00","16:00"]]}}`
	barHours = `{"time_zone":"Europe/Paris","weekly":{"fri":[["17:00","02:00"]],"sat":[["17:00","02:00"]]}}`
)

// input returns a valid full input named name, attributes included.
func input(name string) nearby.BusinessInput {
	return nearby.BusinessInput{
		Name: ptr(name), Category: ptr(nearby.Cafe), Lat: ptr(40.758), Lon: ptr(-73.9855),
		Address: ptr("1 Times Sq"), City: ptr("New York"), State: ptr("NY"), Country: ptr("US"), Zip: ptr("10036"),
		Description: ptr("Coffee."), Photos: ptr([]string{"https://example.com/a.jpg"}),
		Price: ptr(nearby.Price(2)), Rating: ptr(nearby.RatingOf(46)), ReviewCount: ptr(uint32(1287)), Hours: schedule(cafeHours),
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := nearby.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}
