package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a private PostgreSQL server on a free loopback port, in a
// temporary directory, for tests that stop and start their database. When
// the test runs as root, the server runs as the postgres OS user (PostgreSQL
// refuses to run as root).
type Server struct {
	Port    int
	bin     string // directory of initdb and pg_ctl
	dir     string // temporary directory holding data/ and log
	data    string
	asOther string // OS user to run as, "" for the current one
}

// StartServer initialises and starts a private server with trust
// authentication and a database named test, and stops and removes it when
// tb ends. It fails tb if the PostgreSQL server binaries are not installed.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binDir()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		s.asOther = "postgres"
		if _, err := user.Lookup(s.asOther); err != nil {
			tb.Fatalf("running as root, and there is no postgres OS user to run a PostgreSQL server as: %v", err)
		}
	}
	// Not t.TempDir: its parents are private to the current user, and the
	// server may run as another.
	if s.dir, err = os.MkdirTemp("", "nearby-pgtest-"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate") // ignore errors: may be stopped already
		os.RemoveAll(s.dir)
	})
	if err := os.Chmod(s.dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	s.data = filepath.Join(s.dir, "data")
	if err := os.Mkdir(s.data, 0o700); err != nil {
		tb.Fatal(err)
	}
	if s.asOther != "" {
		if out, err := exec.Command("chown", "-R", s.asOther+":", s.dir).CombinedOutput(); err != nil {
			tb.Fatalf("chown %s: %v\n%s", s.dir, err, out)
		}
	}
	if out, err := s.command(filepath.Join(bin, "initdb"), "-D", s.data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"fsync = off\nmax_connections = 50\nshared_buffers = 32MB\n", s.Port, s.data)
	f, err := os.OpenFile(filepath.Join(s.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		f.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	s.Start(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE test"); err != nil {
		tb.Fatal(err)
	}
	return s
}

// DSN returns the DSN of database db on s.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if out, err := s.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(s.dir, "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server (fast shutdown: sessions are ended, transactions
// in progress roll back) and waits until it is down.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := s.pgctl("stop", "-w", "-t", "60", "-m", "fast"); err != nil {
		tb.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (s *Server) pgctl(args ...string) ([]byte, error) {
	return s.command(filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", s.data}, args...)...).CombinedOutput()
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	if s.asOther != "" {
		return exec.Command("runuser", append([]string{"-u", s.asOther, "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// binDir finds the directory of the newest installed PostgreSQL's initdb
// and pg_ctl: Debian's /usr/lib/postgresql/N/bin, else pg_config --bindir.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, string(trimNL(out)))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, pg_ctl) found under /usr/lib/postgresql/*/bin " +
		"or by pg_config; run `make services` to install PostgreSQL")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
