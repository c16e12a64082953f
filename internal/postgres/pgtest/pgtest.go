// Package pgtest gives tests real PostgreSQL: throwaway databases on the
// shared test server, and private servers that a test may stop and start.
//
// The shared server is named by the admin DSN in $NEARBY_TEST_DB, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (trust
// authentication, as scripts/services.sh sets it up). A test that cannot
// reach it fails, with instructions: a missing database is never a silent
// skip, in CI or elsewhere.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminDSN is the admin DSN used when $NEARBY_TEST_DB is not set.
const DefaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminDSN returns the DSN of the shared test server's admin database.
func AdminDSN() string {
	if dsn := os.Getenv("NEARBY_TEST_DB"); dsn != "" {
		return dsn
	}
	return DefaultAdminDSN
}

// CreateDatabase creates an empty database with a unique name on the
// server of adminDSN and returns its DSN and a function that drops it
// (closing any connections still open to it).
func CreateDatabase(ctx context.Context, adminDSN string) (dsn string, drop func() error, err error) {
	conn, err := connect(ctx, adminDSN)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var b [6]byte
	rand.Read(b[:])
	name := fmt.Sprintf("nearby_test_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
	return WithDatabase(adminDSN, name), drop, nil
}

// connect connects to the admin database, explaining how to get one when
// that fails.
func connect(ctx context.Context, adminDSN string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL for tests is not reachable at %s (set NEARBY_TEST_DB to an admin DSN, "+
			"or run `make services` to install and start it): %w", Redact(adminDSN), err)
	}
	return conn, nil
}

// NewDatabase creates a throwaway database for tb, dropped when tb ends,
// and returns its DSN. It fails tb if the server is not reachable.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	dsn, drop, err := CreateDatabase(context.Background(), AdminDSN())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
	return dsn
}

// WithDatabase returns dsn naming database name instead of its own.
func WithDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name
}

// Redact returns dsn with any password replaced, for messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	var out []string
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(f, "password=") {
			f = "password=xxxxx"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}
