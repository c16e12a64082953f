//go:build !linux

package loadtest

import (
	"context"
	"errors"
	"fmt"
)

func (p *pacer) run(context.Context) error {
	return fmt.Errorf("pace: %w: its event loop needs Linux (epoll, timerfd)", errors.ErrUnsupported)
}
