//go:build !linux

package loadtest

import "time"

// osSleepMargin is how late osSleep may return: Go's timers can be a
// millisecond late.
const osSleepMargin = time.Millisecond

// osSleep sleeps for about d.
func osSleep(d time.Duration) { time.Sleep(d) }
