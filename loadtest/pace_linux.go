package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// run plays the schedule from one locked OS thread with an epoll loop:
// each request is written when it falls due (a timerfd wakes the loop
// then, to the µs), on an idle connection or a new one, and timed when
// the last byte of its answer is read. Nothing is handed between
// goroutines: a generator of goroutines per connection, woken through
// channels and Go's poller, was itself late by milliseconds at p99 once
// the server under test kept both cores of a small machine busy, and that
// lateness was charged to the server.
func (p *pacer) run(ctx context.Context) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("pace: epoll: %w", err)
	}
	defer unix.Close(ep)
	timer, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("pace: timerfd: %w", err)
	}
	defer unix.Close(timer)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, timer, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}); err != nil {
		return fmt.Errorf("pace: epoll: %w", err)
	}
	defer func() {
		for slot := range p.conns {
			p.close(slot)
		}
	}()

	start := time.Now()
	due := func(i int64) time.Duration { return dueAfter(i, p.rate, p.duration) }
	// Past the schedule, answers have the timeout to arrive (p.expire);
	// stop is a backstop.
	stop := p.duration + 2*p.timeout
	// A dial blocks the loop for up to the timeout (a server that does not
	// accept leaves it hanging), and every request due may need one: no
	// dial may outlast the run's bound.
	dialCtx, cancel := context.WithDeadline(ctx, start.Add(stop))
	defer cancel()
	events := make([]unix.EpollEvent, len(p.conns)+1)
	var next int64
	var scanned time.Duration
	for {
		now := time.Since(start)
		if ctx.Err() != nil || now > stop {
			break
		}
		for due(next) < p.duration && due(next) <= now {
			slot, err := p.idle(dialCtx, ep)
			if err != nil {
				p.fail(err)
				next++
				continue
			}
			if slot < 0 {
				break // every connection is busy: the request waits, and its wait counts
			}
			p.send(slot, p.reqs[next%int64(len(p.reqs))], due(next), time.Since(start))
			next++
			now = time.Since(start)
		}
		if due(next) >= p.duration && p.busy == 0 {
			break
		}
		if now-scanned > 10*time.Millisecond {
			p.expire(now)
			scanned = now
		}

		// Sleep until the next request is due (if a connection can take
		// it) or an answer arrives, and at most 50 ms, to notice the
		// context and timeouts.
		wait := 50 * time.Millisecond
		if due(next) < p.duration && p.busy < len(p.conns) {
			wait = min(wait, due(next)-now)
		}
		if wait <= 0 {
			continue
		}
		if err := unix.TimerfdSettime(timer, 0, &unix.ItimerSpec{Value: unix.NsecToTimespec(int64(wait))}, nil); err != nil {
			return fmt.Errorf("pace: timerfd: %w", err)
		}
		n, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("pace: epoll: %w", err)
		}
		for _, ev := range events[:n] {
			if ev.Fd < 0 {
				var ticks [8]byte
				unix.Read(timer, ticks[:])
				continue
			}
			p.receive(int(ev.Fd), start)
		}
	}
	p.elapsed = time.Since(start)
	for slot, c := range p.conns {
		if c != nil && c.busy {
			p.fail(errors.New("no answer by the end of the run"))
			p.close(slot)
		}
	}
	if ctx.Err() == nil {
		// Cut off with requests still waiting for a connection: they were
		// due, so they failed, rather than not counting at all.
		unsent := errors.New("not sent by the end of the run: every connection was busy")
		for ; due(next) < p.duration; next++ {
			p.fail(unsent)
		}
	}
	return ctx.Err()
}

// idle returns the slot of an idle connection, dialing one into a free
// slot if there is none, or -1 when every connection is busy.
func (p *pacer) idle(ctx context.Context, ep int) (int, error) {
	free := -1
	for slot, c := range p.conns {
		if c == nil {
			if free < 0 {
				free = slot
			}
		} else if !c.busy {
			return slot, nil
		}
	}
	if free < 0 {
		return -1, nil
	}
	c, err := p.dial(ctx)
	if err != nil {
		return -1, err
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(free)}); err != nil {
		unix.Close(c.fd)
		return -1, fmt.Errorf("epoll: %w", err)
	}
	p.conns[free] = c
	return free, nil
}

// dial connects through the dialer (so the loopback check applies) and
// keeps a duplicate of the socket, non-blocking as Go's poller left it,
// for the event loop.
func (p *pacer) dial(ctx context.Context) (*paceConn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, fmt.Errorf("dup: %w", dupErr)
	}
	return &paceConn{fd: fd, buf: make([]byte, 0, 16<<10)}, nil
}

// send writes req on slot's connection. A request is a few hundred bytes
// on a connection with nothing in flight, so it fits the socket's buffer
// whole; anything else is an error.
func (p *pacer) send(slot int, req []byte, due, now time.Duration) {
	c := p.conns[slot]
	p.lag.RecordValue(clampHist(now - due))
	n, err := unix.SendmsgN(c.fd, req, nil, nil, unix.MSG_NOSIGNAL)
	if err == nil && n < len(req) {
		err = io.ErrShortWrite
	}
	if err != nil {
		p.fail(fmt.Errorf("write: %w", err))
		p.close(slot)
		return
	}
	c.busy, c.due, c.sent = true, due, now
	p.busy++
}

// receive reads what arrived on slot's connection and, once the answer is
// whole, times it and frees the connection.
func (p *pacer) receive(slot int, start time.Time) {
	c := p.conns[slot]
	if c == nil {
		return // closed earlier in this batch of events
	}
	if len(c.buf) == cap(c.buf) {
		c.buf = slices.Grow(c.buf, cap(c.buf))
	}
	n, err := unix.Read(c.fd, c.buf[len(c.buf):cap(c.buf)])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil || n == 0:
		if c.busy {
			p.fail(fmt.Errorf("read: %w", cmp.Or(err, io.ErrUnexpectedEOF)))
		}
		p.close(slot) // an idle connection the server closed is no error
		return
	}
	c.buf = c.buf[:len(c.buf)+n]
	if !c.busy {
		p.fail(errors.New("bytes from the server with no request in flight"))
		p.close(slot)
		return
	}
	size, status, closing, err := parseAnswer(c.buf)
	switch {
	case err != nil:
	case size == 0:
		return // more to come
	case size < len(c.buf):
		err = errors.New("bytes from the server after the answer")
	}
	c.busy, c.buf = false, c.buf[:0]
	p.busy--
	switch {
	case err != nil:
		p.fail(err)
		p.close(slot)
		return
	case status != 200:
		p.fail(fmt.Errorf("status %d", status))
	default:
		p.ok++
		p.lat.RecordValue(clampHist(time.Since(start) - c.due))
	}
	if closing {
		p.close(slot) // the server ends the connection: dial again when needed
	}
}

// expire fails the requests that have waited longer than the timeout.
func (p *pacer) expire(now time.Duration) {
	for slot, c := range p.conns {
		if c != nil && c.busy && now-c.sent > p.timeout {
			p.fail(fmt.Errorf("no answer within %v", p.timeout))
			p.close(slot)
		}
	}
}

// close closes slot's connection, if open; closing the socket also takes
// it out of the epoll set.
func (p *pacer) close(slot int) {
	c := p.conns[slot]
	if c == nil {
		return
	}
	if c.busy {
		p.busy--
	}
	unix.Close(c.fd)
	p.conns[slot] = nil
}
