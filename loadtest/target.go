package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRemoteTarget is returned for a target that is not on this machine's
// loopback interface when remote targets were not explicitly allowed.
var ErrRemoteTarget = errors.New("target is not a loopback address")

// CheckTarget parses a base URL and refuses it unless it is http or https,
// has no query or fragment, and its host is a loopback address
// (127.0.0.0/8, ::1 or the name localhost), or allowRemote is set. Names
// other than localhost are refused without being resolved.
func CheckTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("target %q: want a base URL such as http://127.0.0.1:8080", raw)
	}
	if !allowRemote && !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("target %q: %w (pass --allow-remote to load-test your own deployment)", raw, ErrRemoteTarget)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// loopbackHost reports whether host (without port or brackets) names this
// machine's loopback interface.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newClient returns the HTTP client of a run: keep-alive connections for
// up to conns concurrent requests, no redirects, no transparent gzip, and,
// unless allowRemote, a dialer that refuses any non-loopback address, so
// that neither DNS nor a proxy setting can send the load elsewhere.
func newClient(conns int, timeout time.Duration, allowRemote bool) *http.Client {
	d := newDialer(timeout, allowRemote)
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy: the target is the server under test
		DialContext:           d.DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: timeout,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newDialer returns a dialer that, unless allowRemote, refuses any
// non-loopback address.
func newDialer(timeout time.Duration, allowRemote bool) *net.Dialer {
	d := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !allowRemote {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil || !loopbackHost(host) {
				return fmt.Errorf("dial %s: %w", address, ErrRemoteTarget)
			}
			return nil
		}
	}
	return d
}

// closeIdle closes the idle connections of c's transport.
func closeIdle(c *http.Client) {
	if tr, ok := c.Transport.(interface{ CloseIdleConnections() }); ok {
		tr.CloseIdleConnections()
	}
}

// WaitReady waits until searchd at base answers GET /readyz with 200, for
// at most timeout: a server still loading its index answers 503 for a
// while. A server that refuses connections for more than a few seconds is
// taken not to be running at all.
func WaitReady(ctx context.Context, base string, allowRemote bool, timeout time.Duration) error {
	u, err := CheckTarget(base, allowRemote)
	if err != nil {
		return err
	}
	client := newClient(1, 5*time.Second, allowRemote)
	defer closeIdle(client)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := ""
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "/readyz answers " + resp.Status
		} else {
			last = transportError(err)
			if time.Since(start) > 3*time.Second {
				return fmt.Errorf("%s is not answering (%s): is searchd running? (make run)", u, last)
			}
		}
		select {
		case <-ctx.Done():
			if last == "" {
				last = ctx.Err().Error()
			}
			return fmt.Errorf("%s not ready after %s: %s", u, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
