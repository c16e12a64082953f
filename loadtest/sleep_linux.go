package loadtest

import (
	"syscall"
	"time"
)

// osSleepMargin is how late osSleep may return.
const osSleepMargin = 0

// osSleep blocks the thread in the kernel for d: precise to tens of µs.
func osSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
