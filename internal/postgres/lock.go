package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// AdvisoryLock elects one leader among processes that share a database: it
// holds a session-level advisory lock (pg_try_advisory_lock) on a
// connection of its own, for as long as that connection lives. It works on
// a hot standby as on a primary (advisory locks are not WAL-logged), but
// only between sessions of the same server: processes that must exclude
// each other must lock on the same server.
//
// If the connection is lost, so is the lock, and another process may take
// it: Lead checks the connection before it answers, within checkTimeout. A
// holder cut off from the server without a word (its host or network gone)
// loses the lock within about half a minute: the session asks the server
// for TCP keepalives (lockKeepalives), so the server ends it then rather
// than after the system's default of two hours, and a standby can take
// over. An AdvisoryLock is not safe for concurrent use.
type AdvisoryLock struct {
	dsn  string
	key  int64
	conn *pgx.Conn // holding the lock; nil when not held
}

// NewAdvisoryLock returns the lock with key on the server of dsn. It does
// not connect.
func NewAdvisoryLock(dsn string, key int64) *AdvisoryLock { return &AdvisoryLock{dsn: dsn, key: key} }

// LockKey derives an advisory lock key from a name (64-bit FNV-1a), so
// that processes agree on a key by agreeing on a name.
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// Lead reports whether this process holds the lock, taking it if it is
// free. It returns false, nil when another session holds it, and an
// EUNAVAILABLE error when the server cannot be reached (the lock is then
// not held).
func (l *AdvisoryLock) Lead(ctx context.Context) (bool, error) {
	if l.conn != nil {
		held, err := l.held(ctx)
		if err == nil && held {
			return true, nil
		}
		// The connection, and with it the lock, is gone (or was never
		// ours): start over.
		l.conn.Close(context.WithoutCancel(ctx))
		l.conn = nil
	}
	pc, err := parseConfig(l.dsn)
	if err != nil {
		return false, err
	}
	for k, v := range lockKeepalives {
		pc.ConnConfig.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, pc.ConnConfig)
	if err != nil {
		return false, translate(err, "connect for the advisory lock")
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&ok); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return false, translate(err, "take the advisory lock")
	}
	if !ok {
		conn.Close(context.WithoutCancel(ctx))
		return false, nil
	}
	l.conn = conn
	return true, nil
}

// lockKeepalives are the lock session's settings of the server's TCP
// keepalives: a holder silent for 10 s is probed every 5 s, and its session
// (with the lock) ended after 3 probes unanswered. (Over a Unix socket they
// do not apply, nor are they needed.)
var lockKeepalives = map[string]string{
	"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3",
}

// checkTimeout bounds Lead's check that the lock is still held: a server
// that does not answer within it is taken as lost.
var checkTimeout = 5 * time.Second

// held checks in pg_locks that this session still holds the lock (a bigint
// key shows as classid, the high half, and objid, the low half, with
// objsubid 1).
func (l *AdvisoryLock) held(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		  AND classid = $1 AND objid = $2 AND objsubid = 1)`,
		uint32(uint64(l.key)>>32), uint32(l.key)).Scan(&held)
	return held, err
}

// Release unlocks and closes the connection, if the lock is held.
func (l *AdvisoryLock) Release(ctx context.Context) error {
	if l.conn == nil {
		return nil
	}
	_, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
	err = errors.Join(err, l.conn.Close(ctx))
	l.conn = nil
	return translate(err, "release the advisory lock")
}
