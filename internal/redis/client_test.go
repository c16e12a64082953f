package redis

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/nearby/nearby/internal/redis/redistest"
	"github.com/nearby/nearby/internal/syncbuf"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// open returns a client of url with test settings, closed when t ends.
func open(t testing.TB, url string, cfg Config) *Client {
	t.Helper()
	cfg.URL = url
	c, err := Open(context.Background(), cfg, quietLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url                      string
		addrs                    []string
		db                       int
		user, pass, master       string
		cluster, tls, wantErrSet bool
	}{
		{url: "redis://127.0.0.1:6379/0", addrs: []string{"127.0.0.1:6379"}},
		{url: "redis://localhost", addrs: []string{"localhost:6379"}},
		{url: "redis://u:p@h:1/3", addrs: []string{"h:1"}, db: 3, user: "u", pass: "p"},
		{url: "rediss://:secret@h:6380", addrs: []string{"h:6380"}, pass: "secret", tls: true},
		{url: "redis://a:1?addr=b:2&addr=c:3", addrs: []string{"a:1", "b:2", "c:3"}},
		{url: "redis://cfg:6379?cluster=true", addrs: []string{"cfg:6379"}, cluster: true},
		{url: "redis://s1:26379?addr=s2:26379&master_name=mymaster", addrs: []string{"s1:26379", "s2:26379"}, master: "mymaster"},
		{url: "http://h:1", wantErrSet: true},
		{url: "redis://h:1/x", wantErrSet: true},
		{url: "redis://h:1?pool=3", wantErrSet: true},
		{url: "redis://a:1/2?addr=b:2", wantErrSet: true}, // clusters have only db 0
		{url: "not a url", wantErrSet: true},
		{url: "redis://a:1?addr=b:x", wantErrSet: true}, // would start, degraded, instead of failing
		{url: "redis://a:1?addr=", wantErrSet: true},
		{url: "redis://a:1?addr=b", wantErrSet: true},
		{url: "redis://a:1?addr=:2", wantErrSet: true},
		{url: "redis://a:1?addr=[::1]:2", addrs: []string{"a:1", "[::1]:2"}},
		{url: "redis://[::1]:2", addrs: []string{"[::1]:2"}},
		// A query or host that does not parse would be dropped or dialled
		// in vain: the service would start, degraded, instead of failing.
		{url: "redis://s1:26379?master_name=m&sentinel_password=top;secret", wantErrSet: true},
		{url: "redis://s1:26379?master_name=m&sentinel_password=top%zzsecret", wantErrSet: true},
		{url: "redis://s1:26379?master_name=m&sentinel_password=top#secret", wantErrSet: true},
		{url: "redis://:6379", wantErrSet: true},
		{url: "redis://h:0", wantErrSet: true},
		{url: "redis://h:65536", wantErrSet: true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			o, err := ParseURL(tc.url)
			if tc.wantErrSet {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want an error", tc.url, o)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Addrs, tc.addrs) || o.DB != tc.db || o.Username != tc.user || o.Password != tc.pass ||
				o.MasterName != tc.master || o.IsClusterMode != tc.cluster || (o.TLSConfig != nil) != tc.tls {
				t.Errorf("ParseURL(%q) = %+v", tc.url, o)
			}
		})
	}
	if got := Redact("redis://u:pw@h:1/0?sentinel_password=s&master_name=m"); got != "redis://u:xxxxx@h:1/0?master_name=m&sentinel_password=xxxxx" {
		t.Errorf("Redact = %s", got)
	}
	// A password with a character that should have been escaped is still
	// hidden, wherever the URL parser ends it.
	for _, raw := range []string{
		"redis://u:pw@h:1?master_name=m&sentinel_password=top;secret",
		"redis://u:pw@h:1?master_name=m&sentinel_password=top%zzsecret",
		"redis://u:pw@h:1?master_name=m&sentinel_password=top#secret",
	} {
		if got := Redact(raw); strings.Contains(got, "top") || strings.Contains(got, "secret") || strings.Contains(got, "pw") {
			t.Errorf("Redact(%q) = %s", raw, got)
		}
	}
}

// TestPasswordCutByURLParser: a password holding an unescaped "/" or "?"
// after digits makes the URL parser end the host early and leave the rest
// of the password in the path or the query, with no user info. Neither
// Redact nor ParseURL's errors (printed at start-up) may show any of it.
func TestPasswordCutByURLParser(t *testing.T) {
	for _, raw := range []string{
		"redis://:123/secret@h:6379/0",         // host ":123": no host
		"redis://default:123/secret@h:6379/0",  // host "default:123", path "/secret@h:6379/0"
		"redis://default:123?secret@h:6379",    // query "secret@h:6379": an unknown parameter
		"redis://default:123?cluster=secret@h", // a bad parameter value
		"redis://default:123?addr=secret@h",    // a bad addr
	} {
		if got := Redact(raw); strings.Contains(got, "secret") || strings.Contains(got, "123") {
			t.Errorf("Redact(%q) = %s", raw, got)
		}
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", raw)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "secret") || strings.Contains(msg, "123") {
			t.Errorf("ParseURL(%q): %v", raw, err)
		}
	}
	// Without such a cut, bad parts are still quoted, to be found.
	if _, err := ParseURL("redis://u:pw@h:1/x"); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("bad database: %v", err)
	}
}

func TestStore(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := open(t, url, Config{})
	ctx := context.Background()
	key := prefix + ":k"

	if _, ok, err := c.Get(ctx, key); ok || err != nil {
		t.Fatalf("Get of a missing key: ok=%v err=%v, want a miss without error", ok, err)
	}
	if err := c.Set(ctx, key, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Get(ctx, key); !ok || err != nil || string(v) != "v" {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	if ttl := redistest.Client(t, url).PTTL(ctx, key).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("PTTL = %v, want in (0, 1m]", ttl)
	}

	vkey := prefix + ":versioned"
	for _, step := range []struct {
		val    string
		stored bool
	}{
		{"0:", true},       // negative entry on an empty key
		{"0:", false},      // same version: kept
		{"2:two", true},    // a record replaces a negative entry
		{"1:one", false},   // an older record (a lagging replica) does not
		{"2:again", false}, // nor does the same version
		{"10:ten", true},   // numeric, not lexical, comparison
		{"9:nine", false},  //
		{strconv.FormatInt(math.MaxInt64, 10) + ":", true}, // a tombstone
		{"11:eleven", false}, // nothing replaces a tombstone
	} {
		stored, err := c.SetNewer(ctx, vkey, []byte(step.val), time.Minute)
		if err != nil || stored != step.stored {
			t.Fatalf("SetNewer(%q) = %v, %v; want %v", step.val, stored, err, step.stored)
		}
	}
	if _, err := c.SetNewer(ctx, vkey, []byte("no version"), time.Minute); err == nil {
		t.Error("SetNewer of an unversioned value succeeded")
	}
	if !c.Available() {
		t.Error("a script error opened the circuit")
	}
	if err := c.Delete(ctx, vkey); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Get(ctx, vkey); ok {
		t.Error("Delete left the key")
	}
}

// TestAllowConcurrent: 64 clients hammer one key with a limit of 100 per
// minute. Exactly 100 requests are admitted, and the remaining counts they
// were told are 99, 98, ..., 0, each exactly once: every decision saw all
// the ones before it.
func TestAllowConcurrent(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := open(t, url, Config{Timeout: 2 * time.Second})
	const clients, perClient, limit = 64, 10, 100
	var mu sync.Mutex
	var remaining []int
	refused := 0
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range perClient {
				ok, rem, retry, err := c.Allow(context.Background(), prefix+":rl", limit, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if ok {
					remaining = append(remaining, rem)
				} else {
					refused++
					if rem != 0 || retry <= 0 || retry > time.Minute {
						t.Errorf("refused with remaining %d, retry after %v", rem, retry)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(remaining)
	if len(remaining) != limit || refused != clients*perClient-limit {
		t.Fatalf("%d admitted, %d refused; want %d and %d", len(remaining), refused, limit, clients*perClient-limit)
	}
	for i, r := range remaining {
		if r != i {
			t.Fatalf("remaining counts %v, want 0..%d once each", remaining, limit-1)
		}
	}
}

// TestAllowSlidingWindow hammers a limit of 10 per 300 ms for 1.5 s and
// checks that no window of 300 ms (less the round-trip uncertainty of the
// client's clock) holds more than 10 admissions, and that the limiter
// keeps admitting as the window slides.
func TestAllowSlidingWindow(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := open(t, url, Config{Timeout: 2 * time.Second})
	const limit, window = 10, 300 * time.Millisecond
	var mu sync.Mutex
	var admitted []time.Time
	var maxRTT time.Duration
	stop := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				start := time.Now()
				ok, _, _, err := c.Allow(context.Background(), prefix+":rl", limit, window)
				end := time.Now()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				maxRTT = max(maxRTT, end.Sub(start))
				if ok {
					admitted = append(admitted, start.Add(end.Sub(start)/2))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(admitted, func(a, b time.Time) int { return a.Compare(b) })
	span := window - maxRTT
	for i, at := range admitted {
		n := 0
		for _, b := range admitted[i:] {
			if b.Sub(at) >= span {
				break
			}
			n++
		}
		if n > limit {
			t.Fatalf("%d admissions within %v of %v (limit %d per %v)", n, span, at, limit, window)
		}
	}
	// 1.5 s is 5 windows: at least 4 windows' worth must have been admitted.
	if len(admitted) < 4*limit || len(admitted) > 6*limit {
		t.Errorf("%d admitted in 1.5 s at %d per %v", len(admitted), limit, window)
	}
	t.Logf("%d admitted; max round trip %v", len(admitted), maxRTT)
}

// TestAllowLimitLowered: a log kept under a higher limit (rules changed,
// or nodes of a rolling deploy with different rules) holds more than the new
// limit; the wait it reports is until enough entries leave for one more
// admission, not until the oldest leaves.
func TestAllowLimitLowered(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := open(t, url, Config{Timeout: 2 * time.Second})
	rdb := redistest.Client(t, url)
	ctx := context.Background()
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	key := prefix + ":rl"
	for i, age := range []time.Duration{9, 8, 7, 6, 5} { // seconds ago, in a window of 10 s
		at := now.Add(-age * time.Second).UnixMicro()
		if err := rdb.ZAdd(ctx, key, goredis.Z{Score: float64(at), Member: "old-" + strconv.Itoa(i)}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rdb.PExpire(ctx, key, 10*time.Second)
	// Limit 2: four of the five must leave, the 6-second-old one last.
	ok, rem, retry, err := c.Allow(ctx, key, 2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * time.Second; ok || rem != 0 || retry < want-time.Second/2 || retry > want {
		t.Errorf("Allow = %v, remaining %d, retry after %v; want refused, 0, about %v", ok, rem, retry, want)
	}
}

// TestRedisKilledAndRestarted: calls fail fast once Redis is gone, the
// circuit opens after the threshold, and closes by itself once a restarted
// Redis answers.
func TestRedisKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	c := open(t, srv.URL(), Config{Timeout: 50 * time.Millisecond, FailureThreshold: 3, ProbeInterval: 50 * time.Millisecond})
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	for i := range 3 {
		start := time.Now()
		_, _, err := c.Get(ctx, "k")
		if err == nil || errors.Is(err, ErrUnavailable) {
			t.Fatalf("call %d with Redis killed: err = %v, want a connection error", i, err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("call %d took %v with a 50ms timeout", i, d)
		}
	}
	if c.Available() {
		t.Fatal("circuit still closed after 3 failures")
	}
	start := time.Now()
	if _, _, err := c.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with the circuit open: err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Millisecond {
		t.Errorf("short-circuited call took %v", d)
	}
	srv.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for !c.Available() {
		if time.Now().After(deadline) {
			t.Fatal("circuit did not close after Redis came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.Set(ctx, "k", []byte("w"), time.Minute); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestSlowRedis: a Redis that hangs (CLIENT PAUSE) costs a call at most the
// timeout, and after the threshold nothing, until it answers again.
func TestSlowRedis(t *testing.T) {
	srv := redistest.Start(t)
	const timeout = 50 * time.Millisecond
	c := open(t, srv.URL(), Config{Timeout: timeout, FailureThreshold: 3, ProbeInterval: 50 * time.Millisecond})
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Pause(time.Second)
	pausedAt := time.Now()
	for i := range 5 {
		start := time.Now()
		_, _, err := c.Get(ctx, "k")
		d := time.Since(start)
		if err == nil {
			t.Fatalf("call %d answered during the pause", i)
		}
		if d > timeout+100*time.Millisecond {
			t.Errorf("call %d took %v with a %v timeout", i, d, timeout)
		}
		if i >= 3 && !errors.Is(err, ErrUnavailable) {
			t.Errorf("call %d: %v, want ErrUnavailable after 3 timeouts", i, err)
		}
	}
	deadline := pausedAt.Add(5 * time.Second)
	for !c.Available() {
		if time.Now().After(deadline) {
			t.Fatal("circuit did not close after the pause")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, ok, err := c.Get(ctx, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("after the pause: %q %v %v", v, ok, err)
	}
}

// TestOpenWhileDown: a service starts with Redis down, degraded, and picks
// Redis up when it starts.
func TestOpenWhileDown(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	c := open(t, srv.URL(), Config{Timeout: 50 * time.Millisecond, ProbeInterval: 50 * time.Millisecond})
	if c.Available() {
		t.Fatal("circuit closed with Redis down at start")
	}
	srv.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for !c.Available() {
		if time.Now().After(deadline) {
			t.Fatal("circuit did not close once Redis started")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClientMessagesThrottled: while Redis is down, go-redis's failed-dial
// messages reach the service's log as structured WARN lines, one per kind
// per interval however often the probe dials (here every 50 ms for a
// second), instead of raw lines on stderr.
func TestClientMessagesThrottled(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	var out syncbuf.Buffer
	c, err := Open(context.Background(), Config{URL: srv.URL(), Timeout: 50 * time.Millisecond, ProbeInterval: 50 * time.Millisecond},
		slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	c.Close()

	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec struct{ Level, Msg, Detail string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Msg == "redis client" {
			if rec.Level != "WARN" {
				t.Errorf("go-redis message at %s, want WARN: %s", rec.Level, line)
			}
			kinds[strings.SplitN(rec.Detail, ":", 3)[1]]++
		}
	}
	if kinds[" connection pool"] == 0 {
		t.Fatalf("no failed-dial message from go-redis reached the log:\n%s", out.String())
	}
	for kind, n := range kinds {
		if n > 1 {
			t.Errorf("%d lines of go-redis %q messages in one second, want at most 1", n, kind)
		}
	}
}

// TestCredentialsRefused: a Redis that refuses the client's credentials (a
// password set or changed on the server while the service runs, or a wrong
// one in the URL) refuses every call until someone fixes the
// configuration, so it opens the circuit like an outage, says what is
// wrong once in the log, and the circuit closes once Redis accepts the
// client again.
func TestCredentialsRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		password string // of the client's URL and the server's at first ("": none)
		want     string // Redis's refusal once the server's password changes
	}{
		{"password set", "", "NOAUTH"},
		{"password changed", "old", "WRONGPASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			addr := "127.0.0.1:" + strconv.Itoa(srv.Port)
			admin := goredis.NewClient(&goredis.Options{Addr: addr, Password: tc.password, PoolSize: 1})
			t.Cleanup(func() { admin.Close() })
			if tc.password != "" {
				if err := admin.ConfigSet(ctx, "requirepass", tc.password).Err(); err != nil {
					t.Fatal(err)
				}
			}
			url := "redis://" + addr + "/0"
			if tc.password != "" {
				url = "redis://:" + tc.password + "@" + addr + "/0"
			}
			var out syncbuf.Buffer
			c, err := Open(ctx, Config{URL: url, Timeout: 50 * time.Millisecond, FailureThreshold: 3, ProbeInterval: 20 * time.Millisecond},
				slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
				t.Fatal(err)
			}
			// The server's password changes and its clients must log in
			// again (as after a restart); admin keeps its session.
			if err := admin.ConfigSet(ctx, "requirepass", "new").Err(); err != nil {
				t.Fatal(err)
			}
			if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				_, _, err := c.Get(ctx, "k")
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("call %d with refused credentials: err = %v, want %s", i, err, tc.want)
				}
			}
			if c.Available() {
				t.Fatal("circuit still closed after 3 refusals of the credentials")
			}
			if _, _, err := c.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("with the circuit open: err = %v, want ErrUnavailable", err)
			}
			time.Sleep(200 * time.Millisecond) // about 10 probes, all refused
			if c.Available() {
				t.Fatal("circuit closed while Redis still refuses the credentials")
			}
			if n := strings.Count(out.String(), "redis refuses our credentials"); n != 1 {
				t.Errorf("%d log lines about the credentials, want 1:\n%s", n, out.String())
			}

			// The password is set back: the probe gets in, the circuit closes.
			if err := admin.ConfigSet(ctx, "requirepass", tc.password).Err(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !c.Available() {
				if time.Now().After(deadline) {
					t.Fatal("circuit did not close once Redis accepted the credentials again")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if v, ok, err := c.Get(ctx, "k"); err != nil || !ok || string(v) != "v" {
				t.Fatalf("after recovery: %q %v %v", v, ok, err)
			}
		})
	}
}

// TestOpenWrongPassword: a wrong password in the URL starts the service
// degraded, with one log line saying what to fix.
func TestOpenWrongPassword(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	if err := redistest.Client(t, srv.URL()).ConfigSet(ctx, "requirepass", "right").Err(); err != nil {
		t.Fatal(err)
	}
	var out syncbuf.Buffer
	c, err := Open(ctx, Config{URL: "redis://:pw-Xq7z@127.0.0.1:" + strconv.Itoa(srv.Port) + "/0", Timeout: 50 * time.Millisecond, ProbeInterval: 20 * time.Millisecond},
		slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	c.Close()
	if c.Available() {
		t.Fatal("circuit closed with a wrong password")
	}
	if n := strings.Count(out.String(), "redis refuses our credentials"); n != 1 {
		t.Errorf("%d log lines about the credentials, want 1:\n%s", n, out.String())
	}
	if strings.Contains(out.String(), "pw-Xq7z") {
		t.Errorf("the password is in the log:\n%s", out.String())
	}
}

// TestCommandsRefusedByACL: an ACL user that may not run some of the
// commands nearby uses (scripts: the versioned cache writes and the shared
// rate limits; or some keys) gets NOPERM for those while PING, and perhaps
// GET and SET, still work. That is not an outage: the circuit stays closed
// (the probe's PING would close it at once, and it would flap), but the
// callers' fallbacks (limits per process, uncached details) would hide it,
// so the client logs one ERROR per kind of refused call naming the fix.
func TestCommandsRefusedByACL(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		rules []any    // of ACL SETUSER, after the user's name
		ops   []string // refused: each logged once
		fix   string   // named in the log line
	}{
		{"no scripts", []any{"on", ">pw", "~*", "+@all", "-@scripting"}, []string{"setnewer", "ratelimit"}, "EVALSHA"},
		{"a command in a script", []any{"on", ">pw", "~*", "+@all", "-zadd"}, []string{"ratelimit"}, "ZADD"},
		{"other keys", []any{"on", ">pw", "~other:*", "+@all"}, []string{"get", "set", "setnewer", "ratelimit"}, "~"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t)
			admin := redistest.Client(t, srv.URL())
			if err := admin.Do(ctx, append([]any{"ACL", "SETUSER", "nearby"}, tc.rules...)...).Err(); err != nil {
				t.Fatal(err)
			}
			var out syncbuf.Buffer
			c, err := Open(ctx, Config{URL: "redis://nearby:pw@127.0.0.1:" + strconv.Itoa(srv.Port) + "/0", Timeout: time.Second, FailureThreshold: 3, ProbeInterval: 20 * time.Millisecond},
				slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			for range 5 {
				calls := map[string]error{}
				_, _, calls["get"] = c.Get(ctx, "k")
				calls["set"] = c.Set(ctx, "k", []byte("v"), time.Minute)
				_, calls["setnewer"] = c.SetNewer(ctx, "d", []byte("1:x"), time.Minute)
				_, _, _, calls["ratelimit"] = c.Allow(ctx, "rl", 10, time.Second)
				for op, err := range calls {
					if refused := slices.Contains(tc.ops, op); refused != (err != nil) {
						t.Fatalf("%s: err = %v, want an error: %v", op, err, refused)
					}
				}
			}
			if !c.Available() {
				t.Fatal("circuit open: refused commands are not an outage")
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			for _, op := range tc.ops {
				n := 0
				for _, l := range lines {
					if strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, "ACL") && strings.Contains(strings.ToLower(l), strings.ToLower(tc.fix)) && strings.Contains(l, `"op":"`+op+`"`) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d ERROR lines for %s naming the ACL and %s, want 1:\n%s", n, op, tc.fix, out.String())
				}
			}
		})
	}
}

// TestPingRefusedByACL: an ACL user that may not PING cannot pass the
// breaker's probe, so the service runs degraded until the ACL is fixed; the
// one line logged must say that, not that Redis is unavailable.
func TestPingRefusedByACL(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := redistest.Client(t, srv.URL())
	if err := admin.Do(ctx, "ACL", "SETUSER", "nearby", "on", ">pw", "~*", "+@all", "-ping").Err(); err != nil {
		t.Fatal(err)
	}
	var out syncbuf.Buffer
	c, err := Open(ctx, Config{URL: "redis://nearby:pw@127.0.0.1:" + strconv.Itoa(srv.Port) + "/0", Timeout: time.Second, ProbeInterval: 20 * time.Millisecond},
		slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	time.Sleep(100 * time.Millisecond) // a few probes, all refused
	if c.Available() {
		t.Fatal("circuit closed, but the probe's PING is refused")
	}
	if n := strings.Count(out.String(), `"level":"ERROR"`); n != 1 || !strings.Contains(out.String(), "ACL") || !strings.Contains(out.String(), "+ping") {
		t.Errorf("%d ERROR lines, want 1 naming the ACL and +ping:\n%s", n, out.String())
	}
}

// TestOutOfMemory: a Redis at its maxmemory under the noeviction policy
// (Redis's default) refuses writes with OOM while reads and PING work. The
// circuit stays closed (it would flap), but the callers' fallbacks hide the
// refusals (details uncached, owners' writes not refreshing the cache), so
// the client logs one ERROR per kind of refused call naming the fix.
func TestOutOfMemory(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := redistest.Client(t, srv.URL())
	if err := admin.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"maxmemory-policy", "noeviction"}, {"maxmemory", "1"}} {
		if err := admin.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var out syncbuf.Buffer
	c, err := Open(ctx, Config{URL: srv.URL(), Timeout: time.Second, ProbeInterval: 20 * time.Millisecond},
		slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for range 5 {
		if _, ok, err := c.Get(ctx, "k"); !ok || err != nil {
			t.Fatalf("get: %v %v; reads work at maxmemory", ok, err)
		}
		if _, err := c.SetNewer(ctx, "d", []byte("1:x"), time.Minute); err == nil {
			t.Fatal("setnewer: stored beyond maxmemory")
		}
		if err := c.Set(ctx, "s", []byte("x"), time.Minute); err == nil {
			t.Fatal("set: stored beyond maxmemory")
		}
	}
	if !c.Available() {
		t.Fatal("circuit open: Redis serves reads")
	}
	for _, op := range []string{"setnewer", "set"} {
		n := 0
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, "maxmemory-policy volatile-lru") && strings.Contains(l, `"op":"`+op+`"`) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d ERROR lines for %s naming maxmemory-policy, want 1:\n%s", n, op, out.String())
		}
	}
}

// TestACLGrantSuffices: an ACL user given exactly what the client's log
// says to grant (aclCommands, keys under the prefix) runs every call
// cleanly, on a database other than 0 too (where the client selects it on
// connecting).
func TestACLGrantSuffices(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := redistest.Client(t, srv.URL())
	rules := []any{"ACL", "SETUSER", "nearby", "on", ">pw", "~t:*"}
	for _, c := range strings.Fields(aclCommands) {
		rules = append(rules, c)
	}
	if err := admin.Do(ctx, rules...).Err(); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"0", "3"} {
		var out syncbuf.Buffer
		c, err := Open(ctx, Config{URL: "redis://nearby:pw@127.0.0.1:" + strconv.Itoa(srv.Port) + "/" + db, Timeout: time.Second, ProbeInterval: 20 * time.Millisecond},
			slog.New(slog.NewJSONHandler(&out, nil)), prometheus.NewRegistry())
		if err != nil {
			t.Fatalf("db %s: %v", db, err)
		}
		if err := c.Set(ctx, "t:k", []byte("v"), time.Minute); err != nil {
			t.Errorf("db %s: set: %v", db, err)
		}
		if _, ok, err := c.Get(ctx, "t:k"); !ok || err != nil {
			t.Errorf("db %s: get: %v %v", db, ok, err)
		}
		if _, err := c.SetNewer(ctx, "t:d", []byte("1:x"), time.Minute); err != nil {
			t.Errorf("db %s: setnewer: %v", db, err)
		}
		if _, _, _, err := c.Allow(ctx, "t:rl", 10, time.Second); err != nil {
			t.Errorf("db %s: ratelimit: %v", db, err)
		}
		if strings.Contains(out.String(), `"level":"ERROR"`) {
			t.Errorf("db %s: errors logged:\n%s", db, out.String())
		}
		c.Close()
	}
}
