package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// throttle lets one line of each kind through per interval and counts the
// ones it holds back.
type throttle struct {
	every time.Duration

	mu   sync.Mutex
	last map[string]time.Time // by kind
	held map[string]int
}

func newThrottle(every time.Duration) *throttle {
	return &throttle{every: every, last: map[string]time.Time{}, held: map[string]int{}}
}

// pass reports whether a line of the kind may be logged now and, if so,
// how many were held back since the last one.
func (t *throttle) pass(kind string) (held int, ok bool) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, seen := t.last[kind]; seen && now.Sub(last) < t.every {
		t.held[kind]++
		return 0, false
	}
	held = t.held[kind]
	t.last[kind], t.held[kind] = now, 0
	return held, true
}

// clientLog takes go-redis's own messages, which it writes through one
// process-wide logger (to stderr by default: a line per failed dial, twice
// a second while Redis is down), into the service's structured log at WARN,
// at most one line per kind of message (format string) per interval, with
// the number held back since the last one shown. The circuit breaker
// already logs when Redis goes and comes back; these lines are the details.
type clientLog struct {
	logger *slog.Logger
	*throttle
}

// clientLogInterval is how often one kind of go-redis message is shown.
const clientLogInterval = 30 * time.Second

func newClientLog(logger *slog.Logger, every time.Duration) *clientLog {
	return &clientLog{logger, newThrottle(every)}
}

// Printf implements go-redis's logging interface.
func (l *clientLog) Printf(ctx context.Context, format string, v ...any) {
	if held, ok := l.pass(format); ok {
		l.logger.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...), "held_back", held)
	}
}

// deniedLog reports calls that Redis's ACL refuses (NOPERM): an ERROR
// naming the fix, at most once per operation per interval, with the number
// held back since. Callers fall back (limits per process, details from the
// database) and the circuit stays closed, so without it a misconfigured ACL
// user would show only in metrics.
type deniedLog struct {
	logger *slog.Logger
	*throttle
}

// deniedLogInterval is how often a refused operation is logged again.
const deniedLogInterval = 10 * time.Minute

// aclCommands is what nearby's ACL user needs: the commands it runs, and
// those its Lua scripts run (scripts run with the caller's permissions);
// SELECT too, which the client sends on connecting to a database other
// than 0.
const aclCommands = "+ping +select +get +set +del +evalsha +eval +time +zadd +zcard +zrange +zremrangebyscore +pexpire"

func newDeniedLog(logger *slog.Logger, every time.Duration) *deniedLog {
	return &deniedLog{logger, newThrottle(every)}
}

func (l *deniedLog) log(ctx context.Context, op string, err error) {
	held, ok := l.pass(op)
	if !ok {
		return
	}
	l.logger.ErrorContext(ctx, "redis ACL refuses a command to our user: grant it what nearby runs, "+
		"ACL SETUSER <user> ~<prefix>:* "+aclCommands+" (Lua scripts run with the user's permissions); meanwhile "+effectOf(op),
		"op", op, "err", err, "held_back", held)
}

// oom reports writes that Redis refuses for lack of memory (OOM), at most
// once per operation per interval, as log does for the ACL.
func (l *deniedLog) oom(ctx context.Context, op string, err error) {
	held, ok := l.pass("oom " + op)
	if !ok {
		return
	}
	l.logger.ErrorContext(ctx, "redis is out of memory and refuses writes: set maxmemory-policy volatile-lru "+
		"(every key nearby writes has a TTL) or raise maxmemory; meanwhile "+effectOf(op),
		"op", op, "err", err, "held_back", held)
}

// effectOf says what the callers' fallback does while op is refused.
func effectOf(op string) string {
	if op == "ratelimit" {
		return "rate limits are decided by each process alone, not shared"
	}
	return "the cache is bypassed for it: details are read from the database, and owners' writes do not refresh the cache"
}
