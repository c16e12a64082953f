package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Replication is a private primary and a streaming replica of it: a real
// hot standby, cloned with pg_basebackup and replaying the primary's WAL.
type Replication struct {
	Primary *Server // read-write
	Replica *Server // read-only hot standby of Primary
}

// StartPrimaryAndReplica starts a private primary (StartServer: wal_level
// replica, WAL senders and trust for replication connections from
// loopback, as initdb sets them up) and a replica of it: pg_basebackup -R
// of the primary into a temporary directory, started on another free
// loopback port as a hot standby streaming from the primary. Both run as
// the postgres OS user when the test runs as root. The database test
// exists on both. Both are stopped and removed when tb ends, the replica
// first.
func StartPrimaryAndReplica(tb testing.TB) *Replication {
	tb.Helper()
	p := StartServer(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	var walLevel string
	err = conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel)
	conn.Close(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if walLevel != "replica" && walLevel != "logical" {
		tb.Fatalf("primary has wal_level %s; streaming replication needs replica", walLevel)
	}

	r := &Server{bin: p.bin, asOther: p.asOther}
	if r.dir, err = os.MkdirTemp("", "nearby-pgtest-replica-"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		r.pgctl("stop", "-m", "immediate")
		os.RemoveAll(r.dir)
	})
	if err := os.Chmod(r.dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	r.data = filepath.Join(r.dir, "data")
	if err := os.Mkdir(r.data, 0o700); err != nil {
		tb.Fatal(err)
	}
	if r.asOther != "" {
		if out, err := exec.Command("chown", "-R", r.asOther+":", r.dir).CombinedOutput(); err != nil {
			tb.Fatalf("chown %s: %v\n%s", r.dir, err, out)
		}
	}
	// -R writes standby.signal and primary_conninfo; -X stream copies the
	// WAL written during the backup over a second connection.
	if out, err := r.command(filepath.Join(r.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", fmt.Sprint(p.Port),
		"-U", "postgres", "-D", r.data, "-R", "-X", "stream", "-c", "fast", "--no-sync").CombinedOutput(); err != nil {
		tb.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	if r.Port, err = freePort(); err != nil {
		tb.Fatal(err)
	}
	// The copied postgresql.conf is the primary's; later lines win.
	conf := fmt.Sprintf("port = %d\nunix_socket_directories = '%s'\nhot_standby = on\n", r.Port, r.data)
	f, err := os.OpenFile(filepath.Join(r.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		f.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	r.Start(tb)
	rep := &Replication{Primary: p, Replica: r}
	if err := rep.waitStreaming(ctx); err != nil {
		tb.Fatal(err)
	}
	return rep
}

// waitStreaming waits until the replica is in recovery and the primary
// shows it streaming.
func (rep *Replication) waitStreaming(ctx context.Context) error {
	for {
		state, err := rep.query(ctx, rep.Primary, "SELECT coalesce((SELECT state FROM pg_stat_replication LIMIT 1), '')")
		if err == nil && state == "streaming" {
			inRecovery, err := rep.query(ctx, rep.Replica, "SELECT pg_is_in_recovery()::text")
			if err != nil {
				return err
			}
			if inRecovery != "true" {
				return fmt.Errorf("the replica is not in recovery")
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replica not streaming (state %q, %v): %w", state, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitReplayed waits until the replica has replayed everything the primary
// had written when it was called (pg_last_wal_replay_lsn on the replica
// reaches pg_current_wal_lsn of the primary), so a read of the replica sees
// every write committed before. It fails tb after 30 s.
func (rep *Replication) WaitReplayed(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target, err := rep.query(ctx, rep.Primary, "SELECT pg_current_wal_lsn()::text")
	if err != nil {
		tb.Fatal(err)
	}
	for {
		done, err := rep.query(ctx, rep.Replica, "SELECT (pg_last_wal_replay_lsn() >= $1::pg_lsn)::text", target)
		if err == nil && done == "true" {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("replica has not replayed up to %s: %v", target, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// query runs a one-value query on s's database test.
func (rep *Replication) query(ctx context.Context, s *Server, sql string, args ...any) (string, error) {
	conn, err := pgx.Connect(ctx, s.DSN("test"))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v string
	err = conn.QueryRow(ctx, sql, args...).Scan(&v)
	return v, err
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
