package ratelimit

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Rules say how requests are limited: classes of routes, each with a limit
// per sliding window per client, and how clients are told apart.
type Rules struct {
	// Classes are tried in order; a request is limited by the first class
	// with a route that matches it, and not at all if none matches.
	Classes []Class `yaml:"classes"`
	// ClientIPHeader names a header set by a trusted proxy in front of the
	// service (X-Forwarded-For, X-Real-IP): its last address is the
	// client's (a port after it, as some proxies write, is ignored).
	// Empty: the connection's peer address.
	ClientIPHeader string `yaml:"client_ip_header"`
	// TrustedProxies are the addresses or prefixes ("10.0.0.0/8") of the
	// proxies in front of the service. With them, ClientIPHeader is
	// believed only from a peer among them, and the client is the last
	// address in it that is not one of them (proxies in a chain each
	// append their peer); a client that reaches the service directly
	// cannot name another. Without them, the header is believed from any
	// peer, and its last address is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// APIKeyHeader names a header carrying an API key (say X-Api-Key):
	// a request with one is limited per key rather than per address. With
	// APIKeys set, only those keys count and others fall back to the
	// address; without, any key is trusted, which only makes sense behind
	// a gateway that checked it.
	APIKeyHeader string   `yaml:"api_key_header"`
	APIKeys      []string `yaml:"api_keys"`
	// ExemptLoopback leaves clients at loopback addresses unlimited and
	// without headers: local tools, probes and tests. The built-in rules
	// set it; a rules file does only if it says so (default false), so
	// the limits it states apply to every client. Behind a proxy on the
	// same host, set ClientIPHeader, or every client is exempt (or, with
	// this false, shares the proxy's allowance).
	ExemptLoopback *bool `yaml:"exempt_loopback"`

	trusted []netip.Prefix
}

// Class is a class of routes and its limit.
type Class struct {
	Name string `yaml:"name"`
	// Routes are "[METHOD ]PATH" patterns: PATH is exact, or a prefix when
	// it ends in "*"; "*" alone matches every path. No method: any.
	Routes []string `yaml:"routes"`
	// Limit is the most requests a client may make in any Window; 0
	// means unlimited (the class only exempts its routes).
	Limit  int           `yaml:"limit"`
	Window time.Duration `yaml:"window"`

	routes []route
}

type route struct {
	method string // "" for any
	path   string
	prefix bool
}

// match returns the first class with a route matching r, or nil.
func (rs *Rules) match(r *http.Request) *Class {
	for i := range rs.Classes {
		c := &rs.Classes[i]
		for _, rt := range c.routes {
			if rt.method != "" && rt.method != r.Method {
				continue
			}
			if rt.path == r.URL.Path || rt.prefix && strings.HasPrefix(r.URL.Path, rt.path) {
				return c
			}
		}
	}
	return nil
}

// Parse reads rules in YAML (or JSON) and checks them; unknown fields are
// errors.
func Parse(data []byte) (*Rules, error) {
	var rs Rules
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("rate limit rules: %w", err)
	}
	return &rs, rs.check()
}

// Load reads rules from a file.
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rs, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// warnings are what the rules allow that is documented but rarely meant:
// a client that names its own address or key escapes its limits.
func (rs *Rules) warnings() []string {
	var ws []string
	if rs.ClientIPHeader != "" && len(rs.TrustedProxies) == 0 {
		w := "client_ip_header " + rs.ClientIPHeader + " is believed from any peer: a client that reaches the service directly chooses the address it is limited by"
		if rs.ExemptLoopback != nil && *rs.ExemptLoopback {
			w += ", and with exempt_loopback goes unlimited by naming 127.0.0.1"
		}
		ws = append(ws, w+"; list the proxies in trusted_proxies")
	}
	if rs.APIKeyHeader != "" && len(rs.APIKeys) == 0 {
		ws = append(ws, "api_key_header "+rs.APIKeyHeader+" without api_keys: any key is trusted, so a client gets a fresh allowance with each new key (right only behind a gateway that checks them)")
	}
	return ws
}

// check validates the rules and compiles the routes.
func (rs *Rules) check() error {
	if len(rs.Classes) == 0 {
		return errors.New("rate limit rules: no classes")
	}
	if rs.ExemptLoopback == nil {
		rs.ExemptLoopback = new(bool)
	}
	var errs []error
	if len(rs.TrustedProxies) > 0 && rs.ClientIPHeader == "" {
		errs = append(errs, errors.New("trusted_proxies without client_ip_header: name the header the proxies set"))
	}
	rs.trusted = rs.trusted[:0]
	for _, s := range rs.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("trusted_proxies: %q is not an address or a prefix (10.0.0.0/8)", s))
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// Addresses are compared unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		rs.trusted = append(rs.trusted, p.Masked())
	}
	seen := map[string]bool{}
	for i := range rs.Classes {
		c := &rs.Classes[i]
		switch {
		case c.Name == "" || strings.ContainsAny(c.Name, ": \t{}"):
			errs = append(errs, fmt.Errorf("class %d: name must be non-empty, without spaces, colons or braces", i+1))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("class %q: defined twice", c.Name))
		}
		seen[c.Name] = true
		if c.Limit < 0 || c.Limit > 1_000_000 {
			errs = append(errs, fmt.Errorf("class %q: limit must be in [0, 1000000]", c.Name))
		}
		if c.Limit > 0 && (c.Window < time.Millisecond || c.Window > 24*time.Hour) {
			errs = append(errs, fmt.Errorf("class %q: window must be in [1ms, 24h]", c.Name))
		}
		if len(c.Routes) == 0 {
			errs = append(errs, fmt.Errorf("class %q: no routes", c.Name))
		}
		c.routes = c.routes[:0]
		for _, s := range c.Routes {
			rt, err := parseRoute(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("class %q: %w", c.Name, err))
				continue
			}
			c.routes = append(c.routes, rt)
		}
	}
	return errors.Join(errs...)
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func parseRoute(s string) (route, error) {
	var rt route
	f := strings.Fields(s)
	switch {
	case len(f) == 2 && slices.Contains(methods, f[0]):
		rt.method, s = f[0], f[1]
	case len(f) != 1:
		return rt, fmt.Errorf("route %q: want \"[METHOD ]PATH\"", s)
	default:
		s = f[0]
	}
	if s != "*" && !strings.HasPrefix(s, "/") {
		return rt, fmt.Errorf("route %q: path must start with / (or be *)", s)
	}
	rt.path, rt.prefix = strings.CutSuffix(s, "*")
	if strings.Contains(rt.path, "*") {
		// Not a wildcard: a route like "/v1/*/photos" would match nothing.
		return rt, fmt.Errorf("route %q: * only at the end of a path", s)
	}
	return rt, nil
}

// Defaults returns the built-in rules of a service ("searchd" or
// "owner-api"), used when no rules file is given. They are generous for
// people and apps and stop scrapers and runaway clients; every limit fits
// Redis's compact sorted-set encoding (at most 128 entries per client log).
func Defaults(service string) *Rules {
	src, ok := defaults[service]
	if !ok {
		panic("ratelimit: no default rules for " + service)
	}
	rs, err := Parse([]byte(src))
	if err != nil {
		panic(err)
	}
	return rs
}

// defaults are the built-in rules, as a rules file would state them.
var defaults = map[string]string{
	"searchd": `
# searchd: per client address (or API key), loopback clients exempt.
exempt_loopback: true
classes:
  - name: search        # 10 searches a second sustained, bursts of 100
    routes: ["GET /v1/search/*", "HEAD /v1/search/*", "POST /v1/search/within"]
    limit: 100
    window: 10s
  - name: details
    routes: ["GET /v1/businesses/*", "HEAD /v1/businesses/*"]
    limit: 100
    window: 10s
  - name: internal      # cluster peers asking for shards: not limited
    routes: ["/internal/*"]
    limit: 0
  - name: other         # the map explorer, health, metrics, unknown paths
    routes: ["*"]
    limit: 120
    window: 10s
`,
	"owner-api": `
# owner-api: per owner (a valid bearer token), else per client address.
exempt_loopback: true
classes:
  - name: write
    routes: ["POST /v1/*", "PUT /v1/*", "PATCH /v1/*", "DELETE /v1/*"]
    limit: 60
    window: 1m
  - name: read
    routes: ["GET /v1/*", "HEAD /v1/*"]
    limit: 120
    window: 1m
  - name: other
    routes: ["*"]
    limit: 120
    window: 10s
`,
}

// FromFlag returns the rules a --rate-limits value names: the service's
// Defaults for "", none (nil: no limiting) for "off", else the file's.
func FromFlag(value, service string) (*Rules, error) {
	switch value {
	case "":
		return Defaults(service), nil
	case "off":
		return nil, nil
	}
	return Load(value)
}
