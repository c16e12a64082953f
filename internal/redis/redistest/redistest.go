// Package redistest gives tests real Redis: the shared test server with a
// key prefix of each test's own (its keys deleted when the test ends), and
// private redis-server processes on free loopback ports that a test may
// kill, restart or pause.
//
// The shared server is named by $NEARBY_TEST_REDIS, by default
// redis://127.0.0.1:6379/0 (scripts/services.sh starts it). A test that
// cannot reach it fails when $CI is true and is skipped, loudly, otherwise.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultURL is the shared test server's URL when $NEARBY_TEST_REDIS is not
// set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the shared test server's URL after checking that it answers.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("NEARBY_TEST_REDIS")
	if u == "" {
		u = DefaultURL
	}
	opts, err := goredis.ParseURL(u)
	if err != nil {
		tb.Fatalf("NEARBY_TEST_REDIS: %v", err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		msg := fmt.Sprintf("Redis for tests is not reachable at %s (set NEARBY_TEST_REDIS, or run `make services`): %v", u, err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED, NOT PASSED: " + msg)
	}
	return u
}

// Prefix returns a key prefix no other test uses ("nearbytest:<random>")
// and deletes every key under it on the server at url when tb ends.
func Prefix(tb testing.TB, url string) string {
	tb.Helper()
	var b [6]byte
	rand.Read(b[:])
	prefix := "nearbytest:" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		opts, err := goredis.ParseURL(url)
		if err != nil {
			return
		}
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// Client returns a plain go-redis client of url, closed when tb ends, for
// inspecting what a test stored.
func Client(tb testing.TB, url string) *goredis.Client {
	tb.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	c := goredis.NewClient(opts)
	tb.Cleanup(func() { c.Close() })
	return c
}

// Server is a private redis-server on a loopback port, without persistence.
type Server struct {
	tb   testing.TB
	Port int
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a private redis-server on a free loopback port; it is killed
// when tb ends. The test fails if redis-server is not installed in CI, and
// is skipped otherwise.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server is not installed (run `make services`)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED, NOT PASSED: " + msg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, Port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	s.start()
	tb.Cleanup(s.Kill)
	return s
}

// URL returns the server's URL.
func (s *Server) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(s.Port) + "/0" }

func (s *Server) start() {
	s.tb.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(s.Port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("private redis-server on port %d did not start: %v", s.Port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server (SIGKILL: no goodbye to clients) and waits for it
// to exit. Killing a killed server does nothing.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	s.start()
}

// Pause makes the server answer no client for d (CLIENT PAUSE ALL): a
// Redis that hangs. It returns at once.
func (s *Server) Pause(d time.Duration) {
	s.tb.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(s.Port)})
	defer c.Close()
	if err := c.Do(context.Background(), "CLIENT", "PAUSE", d.Milliseconds(), "ALL").Err(); err != nil {
		s.tb.Fatal(err)
	}
}
