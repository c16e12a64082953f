package loadtest_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nearby/nearby/loadtest"
)

// TestPaceBoundedWhenConnectsHang: a server whose listen queue is full
// (it never accepts) leaves connection attempts hanging, as a stopped or
// swamped server does. Each request due then waits for a dial of up to
// its timeout, one after the other on the event loop; the run must still
// end two timeouts after its duration, with every request due an error,
// not after a dial timeout per request (20 × 300 ms here).
func TestPaceBoundedWhenConnectsHang(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil { // a queue of one, never accepted
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	target := fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)

	start := time.Now()
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: target, Paths: []string{"/"}, Rate: 100, Duration: 200 * time.Millisecond, Conns: 64,
		Timeout: 300 * time.Millisecond,
	})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// The bound is 200 ms + 2 × 300 ms; allow for a slow machine.
	if took > 1500*time.Millisecond {
		t.Errorf("the run took %v, want at most about 800ms", took)
	}
	if res.Requests != 0 || res.Errors != 20 {
		t.Errorf("%d answered, %d errors (%q); want the 20 due, all errors", res.Requests, res.Errors, res.FirstError)
	}
}
