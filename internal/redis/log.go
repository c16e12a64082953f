package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// clientLog takes go-redis's own messages, which it writes through one
// process-wide logger (to stderr by default: a line per failed dial, twice
// a second while Redis is down), into the service's structured log at WARN,
// at most one line per kind of message per interval, with the number held
// back since the last one shown. The circuit breaker already logs when
// Redis goes and comes back; these lines are the details.
type clientLog struct {
	logger *slog.Logger
	every  time.Duration

	mu   sync.Mutex
	last map[string]time.Time // by format string
	held map[string]int
}

// clientLogInterval is how often one kind of go-redis message is shown.
const clientLogInterval = 30 * time.Second

func newClientLog(logger *slog.Logger, every time.Duration) *clientLog {
	return &clientLog{logger: logger, every: every, last: map[string]time.Time{}, held: map[string]int{}}
}

// Printf implements go-redis's logging interface.
func (l *clientLog) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now()
	l.mu.Lock()
	if t, ok := l.last[format]; ok && now.Sub(t) < l.every {
		l.held[format]++
		l.mu.Unlock()
		return
	}
	held := l.held[format]
	l.last[format], l.held[format] = now, 0
	l.mu.Unlock()
	l.logger.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...), "held_back", held)
}
