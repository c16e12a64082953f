package ratelimit

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/internal/problem"
)

// Limiter decides one request of a client against a limit of limit
// requests in any sliding window of length window. It returns whether the
// request is admitted, how many more would be admitted now, and how long
// until the next one would be (0 while remaining > 0). *redis.Client and
// *Local are Limiters.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, remaining int, retryAfter time.Duration, err error)
}

// Headers of a limited response.
const (
	HeaderLimit      = "X-Ratelimit-Limit"       // the class's limit per window
	HeaderRemaining  = "X-Ratelimit-Remaining"   // requests left in the window now
	HeaderRetryAfter = "X-Ratelimit-Retry-After" // whole seconds until the next request is admitted; 0 while some remain
)

// Config configures the middleware. Rules, Local, Logger and Registerer are
// required.
type Config struct {
	Service string // key namespace: "searchd", "owner-api"
	Prefix  string // key prefix, shared with the other uses of Redis
	Rules   *Rules
	// Shared is the limiter shared by every process of the service
	// (Redis), or nil. When it fails (Redis down or slow), Local decides.
	Shared Limiter
	Local  *Local
	// ClientKey names the request's client from its credentials, such as
	// "owner:42", or returns "" to limit by API key or address.
	ClientKey  func(*http.Request) string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Middleware returns the rate-limiting middleware: each request is matched
// to a class (Rules), its client identified (ClientKey, else API key, else
// address), and the request admitted or answered 429 Too Many Requests
// with Retry-After and an RFC 9457 problem document. Every limited
// response, admitted or not, carries X-Ratelimit-Limit,
// X-Ratelimit-Remaining and X-Ratelimit-Retry-After. Requests of unlimited
// classes and exempt clients carry none.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nearby_ratelimit_requests_total",
		Help: "Rate-limited requests by class, result (allowed, limited) and source of the decision (redis; local: in this process, without Redis or while it is unavailable).",
	}, []string{"class", "result", "source"})
	cfg.Registerer.MustRegister(decisions)
	rs := cfg.Rules
	for _, w := range rs.warnings() {
		cfg.Logger.Warn("rate limits: " + w)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := rs.match(r)
			if c == nil || c.Limit == 0 {
				next.ServeHTTP(w, r)
				return
			}
			client, exempt := rs.client(r, cfg.ClientKey)
			if exempt {
				next.ServeHTTP(w, r)
				return
			}
			key := cfg.Prefix + ":rl:" + cfg.Service + ":" + c.Name + ":" + client
			source := "local"
			var (
				allowed   bool
				remaining int
				retry     time.Duration
				err       error = errNoShared
			)
			if cfg.Shared != nil {
				allowed, remaining, retry, err = cfg.Shared.Allow(r.Context(), key, c.Limit, c.Window)
				source = "redis"
			}
			if err != nil {
				allowed, remaining, retry, _ = cfg.Local.Allow(r.Context(), key, c.Limit, c.Window)
				source = "local"
			}
			result := "allowed"
			if !allowed {
				result = "limited"
			}
			decisions.WithLabelValues(c.Name, result, source).Inc()
			h := w.Header()
			secs := strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10)
			h.Set(HeaderLimit, strconv.Itoa(c.Limit))
			h.Set(HeaderRemaining, strconv.Itoa(remaining))
			h.Set(HeaderRetryAfter, secs)
			if allowed {
				next.ServeHTTP(w, r)
				return
			}
			if secs == "0" {
				secs = "1"
				h.Set(HeaderRetryAfter, secs)
			}
			h.Set("Retry-After", secs)
			problem.Write(w, r, http.StatusTooManyRequests, "rate limit exceeded: at most "+strconv.Itoa(c.Limit)+" "+c.Name+" requests per "+c.Window.String()+"; retry in "+secs+" s", nil)
		})
	}
}

type noShared struct{}

func (noShared) Error() string { return "no shared limiter" }

var errNoShared error = noShared{}

// client returns the request's client key, and whether it is exempt.
func (rs *Rules) client(r *http.Request, clientKey func(*http.Request) string) (string, bool) {
	ip := rs.clientIP(r)
	if *rs.ExemptLoopback && ip.IsLoopback() {
		return "", true
	}
	if clientKey != nil {
		if k := clientKey(r); k != "" {
			return k, false
		}
	}
	if rs.APIKeyHeader != "" {
		if k := r.Header.Get(rs.APIKeyHeader); k != "" && (len(rs.APIKeys) == 0 || rs.knownKey(k)) {
			sum := sha256.Sum256([]byte(k)) // keys are secrets: not in Redis key names
			return "key:" + hex.EncodeToString(sum[:12]), false
		}
	}
	switch {
	case !ip.IsValid():
		return "ip:unknown", false
	case ip.Is6():
		// One host usually holds a whole /64: limit the prefix.
		p, _ := ip.Prefix(64)
		return "ip:" + p.String(), false
	}
	return "ip:" + ip.String(), false
}

// knownKey reports whether k is one of APIKeys, in a time that does not
// depend on how much of a key k matches.
func (rs *Rules) knownKey(k string) bool {
	found := 0
	for _, key := range rs.APIKeys {
		found |= subtle.ConstantTimeCompare([]byte(key), []byte(k))
	}
	return found == 1
}

// clientIP is the client's address: the peer's, or the one ClientIPHeader
// names (see TrustedProxies). Each address in the header may carry a port
// ("203.0.113.9:50123", "[2001:db8::1]:443"), as some proxies write it,
// and an IPv6 address may be in brackets ("[2001:db8::1]"); a hop that is
// no address stops the walk, and the peer's address is used.
func (rs *Rules) clientIP(r *http.Request) netip.Addr {
	peer := peerIP(r)
	if rs.ClientIPHeader == "" || len(rs.trusted) > 0 && !rs.trusts(peer) {
		return peer
	}
	client := peer
	vs := r.Header.Values(rs.ClientIPHeader)
	for i := len(vs) - 1; i >= 0; i-- { // the nearest hop first
		hops := vs[i]
		for {
			k := strings.LastIndexByte(hops, ',')
			ip, ok := parseHop(hops[k+1:])
			if !ok {
				return peer
			}
			if !rs.trusts(ip) {
				return ip
			}
			client = ip // a proxy: the client is further away
			if k < 0 {
				break
			}
			hops = hops[:k]
		}
	}
	return client
}

// trusts reports whether ip is one of the trusted proxies. A zone
// (fe80::1%eth0) does not matter: a prefix never contains a zoned address.
func (rs *Rules) trusts(ip netip.Addr) bool {
	ip = ip.WithZone("")
	return slices.ContainsFunc(rs.trusted, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// parseHop reads one address of a forwarding header, with or without a
// port; an IPv6 address may be in brackets without one ("[2001:db8::1]").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if v, ok := strings.CutPrefix(s, "["); ok {
		if v, ok := strings.CutSuffix(v, "]"); ok {
			if ip, err := netip.ParseAddr(v); err == nil && ip.Is6() {
				return ip.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

// peerIP is the address of the connection's peer.
func peerIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// BearerKey returns a ClientKey naming the owner of a valid bearer token
// ("owner:<id>"), checked with verify; requests without one are limited by
// address. Only a verified owner counts, so a client cannot spend another
// owner's allowance.
func BearerKey(verify func(token string) (int64, error)) func(*http.Request) string {
	return func(r *http.Request) string {
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return ""
		}
		owner, err := verify(strings.TrimSpace(token))
		if err != nil {
			return ""
		}
		return "owner:" + strconv.FormatInt(owner, 10)
	}
}
