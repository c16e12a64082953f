package postgres

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/postgres/pgtest"
)

// TestAdvisoryLock elects one leader of two, hands over on release, and
// notices a lock lost with its connection.
func TestAdvisoryLock(t *testing.T) {
	ctx := context.Background()
	key := LockKey("nearby/test/" + t.Name() + sharedDSN)
	a, b := NewAdvisoryLock(sharedDSN, key), NewAdvisoryLock(sharedDSN, key)
	t.Cleanup(func() { a.Release(ctx); b.Release(ctx) })
	lead := func(l *AdvisoryLock, want bool, what string) {
		t.Helper()
		if ok, err := l.Lead(ctx); err != nil || ok != want {
			t.Fatalf("%s: lead %v, %v; want %v", what, ok, err, want)
		}
	}
	lead(a, true, "a first")
	lead(a, true, "a again")
	lead(b, false, "b while a leads")
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lead(b, true, "b after a released")
	lead(a, false, "a while b leads")

	// b's session ends on the server: its lock goes with it, and b sees so.
	admin, err := pgx.Connect(ctx, sharedDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var pid uint32
	if err := b.conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	lead(a, true, "a after b's session was terminated")
	lead(b, false, "b after losing its session")

	// Keys differ by name.
	if LockKey("x") == LockKey("y") {
		t.Error("distinct names, same key")
	}
	// Unreachable server: unavailable, not held.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "postgres://postgres@" + ln.Addr().String() + "/test?sslmode=disable"
	ln.Close()
	ok, err := NewAdvisoryLock(dead, key).Lead(ctx)
	if ok {
		t.Error("dead server: lead")
	}
	wantCode(t, err, nearby.EUNAVAILABLE)
}

// TestReplica checks pgtest's streaming replica and the read path on it:
// writes on the primary reach the replica, the replica refuses writes, the
// indexer's stream and advisory lock work on the hot standby.
func TestReplica(t *testing.T) {
	ctx := context.Background()
	rep := pgtest.StartPrimaryAndReplica(t)
	primaryDSN, replicaDSN := rep.Primary.DSN("test"), rep.Replica.DSN("test")
	if _, _, err := Migrate(ctx, primaryDSN, nil); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, Config{Primary: primaryDSN, Replica: replicaDSN})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := NewBusinessService(db)
	owner := newOwner()
	rec, _, err := s.Create(ctx, owner, "", input("replicated"))
	if err != nil {
		t.Fatal(err)
	}
	rep.WaitReplayed(t)
	var got []nearby.Business
	if _, err := s.CopyLive(ctx, func(b nearby.Business) error { got = append(got, b); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != rec.ID {
		t.Fatalf("replica streamed %+v, want business %d", got, rec.ID)
	}
	if err := s.Delete(ctx, owner, rec.ID, 0); err != nil {
		t.Fatal(err)
	}
	rep.WaitReplayed(t)
	got = nil
	if _, err := s.CopyLive(ctx, func(b nearby.Business) error { got = append(got, b); return nil }); err != nil || len(got) != 0 {
		t.Fatalf("after the delete the replica streamed %+v, %v", got, err)
	}

	// The feed's head on the standby is its replay clock: a later
	// transaction elsewhere moves it past the newest stamp.
	var newest time.Time
	if err := db.primary.QueryRow(ctx, `SELECT max(updated_at) FROM businesses`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := db.primary.Exec(ctx, "CREATE TABLE feed_clock (x int)"); err != nil {
		t.Fatal(err)
	}
	rep.WaitReplayed(t)
	if head, err := s.FeedHead(ctx); err != nil || !head.After(newest) {
		t.Errorf("FeedHead on the standby: %v, %v; want its replay clock, after the newest stamp %v", head, err, newest)
	}

	conn, err := pgx.Connect(ctx, replicaDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE nope (x int)")
	wantCode(t, translate(err, "write to replica"), nearby.EUNAVAILABLE) // 25006 read_only_sql_transaction

	key := LockKey(t.Name())
	a, b := NewAdvisoryLock(replicaDSN, key), NewAdvisoryLock(replicaDSN, key)
	t.Cleanup(func() { a.Release(ctx); b.Release(ctx) })
	if ok, err := a.Lead(ctx); !ok || err != nil {
		t.Fatalf("lock on the standby: %v, %v", ok, err)
	}
	if ok, err := b.Lead(ctx); ok || err != nil {
		t.Fatalf("second lock on the standby: %v, %v", ok, err)
	}
}

// TestAdvisoryLockDarkServer: a lock holder whose server goes dark (no
// reset) sees the lock as lost within checkTimeout, instead of waiting on
// its check for as long as the system keeps the connection; and its
// session asks the server for keepalives, so the server ends the session,
// freeing the lock for a standby, about half a minute after the holder
// falls silent.
func TestAdvisoryLockDarkServer(t *testing.T) {
	ctx := context.Background()
	dsn, cut := pgtest.Blackhole(t, sharedDSN)
	// Reconnecting through the dark proxy fails after a second.
	if strings.Contains(dsn, "?") {
		dsn += "&connect_timeout=1"
	} else {
		dsn += "?connect_timeout=1"
	}
	l := NewAdvisoryLock(dsn, LockKey("nearby/test/"+t.Name()+sharedDSN))
	t.Cleanup(func() {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		l.Release(rctx)
	})
	if ok, err := l.Lead(ctx); !ok || err != nil {
		t.Fatalf("lead: %v, %v", ok, err)
	}
	for k, want := range lockKeepalives {
		var got string
		if err := l.conn.QueryRow(ctx, "SELECT current_setting($1)", k).Scan(&got); err != nil || got != want {
			t.Errorf("lock session's %s = %q, %v; want %s", k, got, err, want)
		}
	}
	defer func(d time.Duration) { checkTimeout = d }(checkTimeout)
	checkTimeout = 300 * time.Millisecond
	cut()
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second) // without checkTimeout, the check would wait this long
	defer cancel()
	ok, _ := l.Lead(lctx)
	if ok {
		t.Error("lead through a dark server")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Lead took %v through a dark server; want its check bounded (%v) and the reconnect (1 s)", took, checkTimeout)
	}
}
