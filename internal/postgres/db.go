// Package postgres stores businesses in PostgreSQL through pgx: the schema
// (versioned goose migrations embedded in the binary), the owners' write
// path (nearby.OwnerService) and the database-side read path (a geohash
// proximity query, a change feed and a snapshot stream for the indexer).
//
// Writes and the owners' own reads go to the primary, so an owner reads what
// they wrote; the read path goes to the replica, which may lag. Driver errors
// become domain errors (see the package's error translation): no row is
// ENOTFOUND, a unique violation ECONFLICT, a check violation EINVALID naming
// the field, and a lost or refused connection EUNAVAILABLE. Every write is
// one transaction: it is either wholly stored or not at all, and a write
// that returned without error has been committed.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DefaultConnectTimeout bounds a connection attempt when the DSN does not
// set connect_timeout: with the database down, requests fail fast instead of
// hanging until the client gives up.
const DefaultConnectTimeout = 3 * time.Second

// Config configures the connection pools.
type Config struct {
	Primary  string // DSN of the primary (URL or key=value form); writes and owners' reads
	Replica  string // DSN of a read replica for the read path; "" uses the primary
	MaxConns int32  // per pool; 0 keeps pgx's default
}

// DB is a pair of connection pools, primary and replica (the same pool when
// no replica is configured). It is safe for concurrent use.
type DB struct {
	primary *pgxpool.Pool
	replica *pgxpool.Pool
}

// Open creates the pools. It does not connect: a database that is down at
// start makes requests fail with EUNAVAILABLE until it is up.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	primary, err := newPool(ctx, cfg.Primary, cfg.MaxConns)
	if err != nil {
		return nil, fmt.Errorf("primary: %w", err)
	}
	db := &DB{primary: primary, replica: primary}
	if cfg.Replica != "" && cfg.Replica != cfg.Primary {
		if db.replica, err = newPool(ctx, cfg.Replica, cfg.MaxConns); err != nil {
			primary.Close()
			return nil, fmt.Errorf("replica: %w", err)
		}
	}
	return db, nil
}

func newPool(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := parseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		pc.MaxConns = maxConns
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

// CheckDSN reports whether dsn parses, without echoing it or connecting:
// for commands that take a DSN first used long after start.
func CheckDSN(dsn string) error {
	_, err := parseConfig(dsn)
	return err
}

// parseConfig parses a DSN without echoing it (it may hold a password).
func parseConfig(dsn string) (*pgxpool.Config, error) {
	if dsn == "" {
		return nil, errors.New("no database DSN")
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("cannot parse database DSN (expected postgres://user@host:port/db?... or key=value form)")
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pc.HealthCheckPeriod = 5 * time.Second
	return pc, nil
}

// Close closes both pools, waiting for connections in use to be returned.
func (db *DB) Close() {
	if db.replica != db.primary {
		db.replica.Close()
	}
	db.primary.Close()
}

// Ping checks that the primary answers.
func (db *DB) Ping(ctx context.Context) error {
	return translate(db.primary.Ping(ctx), "ping primary")
}

// PoolStats describes a connection pool for metrics.
type PoolStats struct {
	Acquired, Idle, Total int32
	Acquires              int64 // connections handed out since start
	EmptyAcquires         int64 // acquires that had to wait for a connection
}

// Stats describes the primary pool.
func (db *DB) Stats() PoolStats {
	s := db.primary.Stat()
	return PoolStats{
		Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(),
		Acquires: s.AcquireCount(), EmptyAcquires: s.EmptyAcquireCount(),
	}
}

// MigrationsFS returns the embedded migrations, for tests and tools.
func MigrationsFS() fs.FS {
	sub, _ := fs.Sub(migrationFiles, "migrations")
	return sub
}

// Migration is one applied migration.
type Migration struct {
	Version  int64
	Source   string
	Duration time.Duration
}

// Migrate applies every pending migration to the database at dsn, under a
// Postgres advisory lock so that concurrent runs (several servers starting
// at once) apply each migration once. Applying an up-to-date database does
// nothing: Migrate is idempotent. It returns the migrations applied and the
// schema version now in force.
func Migrate(ctx context.Context, dsn string, logger *slog.Logger) (applied []Migration, version int64, err error) {
	pc, err := parseConfig(dsn)
	if err != nil {
		return nil, 0, err
	}
	sqlDB := stdlib.OpenDB(*pc.ConnConfig)
	defer sqlDB.Close()
	p, err := provider(sqlDB, logger)
	if err != nil {
		return nil, 0, err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, Migration{Version: r.Source.Version, Source: r.Source.Path, Duration: r.Duration})
		}
	}
	if err != nil {
		return applied, 0, translate(err, "migrate")
	}
	version, err = p.GetDBVersion(ctx)
	return applied, version, translate(err, "schema version")
}

// SchemaVersion returns the schema version of the database at dsn and the
// newest version the embedded migrations know.
func SchemaVersion(ctx context.Context, dsn string) (current, latest int64, err error) {
	pc, err := parseConfig(dsn)
	if err != nil {
		return 0, 0, err
	}
	sqlDB := stdlib.OpenDB(*pc.ConnConfig)
	defer sqlDB.Close()
	p, err := provider(sqlDB, nil)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	return current, latest, translate(err, "schema version")
}

// migrationLockID is the advisory lock key held while migrating
// (crc32 IEEE of "nearby/internal/postgres").
const migrationLockID = 0x6e627930

func provider(db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	// Poll for the lock every second (goose's default is every 5), for up
	// to five minutes; the lock id is ours, not goose's shared default.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	return goose.NewProvider(goose.DialectPostgres, db, MigrationsFS(), opts...)
}

// writeTx is the isolation of every write: READ COMMITTED, PostgreSQL's
// default, whatever default_transaction_isolation the database or role
// sets. The write path's concurrency rules rest on it: an UPDATE ... WHERE
// version = $read that meets a concurrent update re-reads the row and
// matches nothing (412), a FOR UPDATE read waits for its turn (If-Match:
// *), and a claim of a taken idempotency key waits and finds it. Under
// REPEATABLE READ or SERIALIZABLE each of these fails with a
// serialization error (a 503) instead. It is set per transaction rather
// than as a connection parameter, which poolers such as PgBouncer refuse.
var writeTx = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}

// inTx runs fn in a transaction on the primary (writeTx) and commits it.
// fn's error, or a failed commit, rolls everything back.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.primary.BeginTx(ctx, writeTx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
