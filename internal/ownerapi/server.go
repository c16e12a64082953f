// Package ownerapi is owner-api's HTTP interface: chi routes for owners'
// authenticated CRUD on their businesses, strict JSON decoding, bearer-token
// (HS256 JWT) authentication, RFC 9457 problem documents and Prometheus
// metrics. Handlers return errors; one adapter turns them into responses,
// with one table from domain error codes to HTTP statuses.
package ownerapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/httpx"
	"github.com/nearby/nearby/internal/problem"
)

// Limits of a request.
const (
	MaxQueryBytes         = 4096
	MaxBodyBytes          = 64 << 10
	DefaultRequestTimeout = 5 * time.Second
)

// Config is what the server needs. Service, Secret, Logger, Registerer and
// Gatherer are required.
type Config struct {
	Service nearby.OwnerService
	Secret  []byte                      // HS256 key of the bearer tokens
	Ready   func(context.Context) error // readiness check (the database answers); nil: always ready
	Logger  *slog.Logger

	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	OpenAPI    []byte // served at /openapi.yaml

	// RequestTimeout bounds the database work of one request (default
	// DefaultRequestTimeout). Writes are not cancelled when the client
	// goes away, only when this runs out, so that a write the client
	// abandons is not left in doubt without need.
	RequestTimeout time.Duration
	Now            func() time.Time // clock for token expiry; default time.Now

	// Middleware runs after the server's own (request id, metrics,
	// recovery), before routing: rate limiting.
	Middleware []func(http.Handler) http.Handler
}

// Server routes owner-api's HTTP API.
type Server struct {
	svc     nearby.OwnerService
	auth    *Authenticator
	ready   func(context.Context) error
	logger  *slog.Logger
	openapi []byte
	timeout time.Duration
	router  *chi.Mux

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer returns the HTTP API described by cfg.
func NewServer(cfg Config) *Server {
	s := &Server{
		svc: cfg.Service, auth: NewAuthenticator(cfg.Secret, cfg.Now), ready: cfg.Ready, logger: cfg.Logger,
		openapi: cfg.OpenAPI, timeout: cfg.RequestTimeout,
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nearby_http_requests_total",
		Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nearby_http_request_duration_seconds",
		Help:    "HTTP request latency by route, method and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "status"})
	cfg.Registerer.MustRegister(s.requests, s.latency)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, problem.EchoRequestID, s.observe, problem.Recoverer(s.logger), middleware.GetHead)
	r.Use(cfg.Middleware...)
	r.Get("/healthz", s.handle(s.healthz))
	r.Get("/readyz", s.handle(s.readyz))
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	r.Get("/openapi.yaml", s.handle(s.openAPI))
	r.Post("/v1/businesses", s.handle(s.authed(s.create)))
	r.Get("/v1/businesses/{id}", s.handle(s.authed(s.get)))
	r.Put("/v1/businesses/{id}", s.handle(s.authed(s.replace)))
	r.Patch("/v1/businesses/{id}", s.handle(s.authed(s.patch)))
	r.Delete("/v1/businesses/{id}", s.handle(s.authed(s.delete)))
	r.Get("/v1/owners/me/businesses", s.handle(s.authed(s.list)))
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return nearby.Errorf(nearby.ENOTFOUND, "no route for %s", r.URL.Path)
	}))
	r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		path := r.URL.Path
		if r.URL.RawPath != "" {
			path = r.URL.RawPath // what chi routes on
		}
		allowed := s.allowed(path)
		if len(allowed) == 0 {
			// chi sends a method it does not know (PROPFIND, a lower-case
			// get) here whatever the path: no route is a 404, as for GET.
			return nearby.Errorf(nearby.ENOTFOUND, "no route for %s", r.URL.Path)
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return &statusError{http.StatusMethodNotAllowed, "method " + r.Method + " not allowed on " + r.URL.Path}
	}))
	s.router = r
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// allowed returns the methods served on path.
func (s *Server) allowed(path string) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if s.router.Match(chi.NewRouteContext(), m, path) ||
			(m == http.MethodHead && s.router.Match(chi.NewRouteContext(), http.MethodGet, path)) {
			out = append(out, m)
		}
	}
	return out
}

// statusError is a failure of the HTTP exchange itself (method, media
// type, size, a missing precondition) rather than of the domain.
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return e.detail }

// handle adapts a handler that returns an error: errors become problem
// documents; internal errors and unavailable dependencies are logged here,
// once, with the request id.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > MaxQueryBytes {
			problem.Write(w, r, http.StatusRequestURITooLong, "query string too long", nil)
			return
		}
		err := h(w, r)
		if err == nil {
			return
		}
		var se *statusError
		if errors.As(err, &se) {
			problem.Write(w, r, se.status, se.detail, nil)
			return
		}
		if we := (*httpx.WriteError)(nil); errors.As(err, &we) {
			// The answer has begun: nothing more can be sent.
			s.logger.Debug("answer not delivered", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", we.Err)
			return
		}
		code := nearby.ErrorCode(err)
		switch code {
		case nearby.EINTERNAL:
			if problem.ClientGone(r, err) {
				w.WriteHeader(problem.StatusClientClosed)
				return
			}
			s.logger.Error("internal error", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", err)
		case nearby.EUNAVAILABLE:
			s.logger.Warn("unavailable", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", "1")
		case nearby.EUNAUTHORIZED:
			if w.Header().Get("WWW-Authenticate") == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="owner-api"`)
			}
		}
		var params []nearby.InvalidParam
		var de *nearby.Error
		if errors.As(err, &de) {
			params = de.Params
		}
		status := problem.Status(code)
		problem.Write(w, r, status, nearby.ErrorMessage(err), params)
	}
}

// reqInfo is filled in while a request is served, for its log line.
type reqInfo struct{ owner int64 }

type reqInfoKey struct{}

// observe counts requests and measures their latency by route pattern, and
// logs one line per request: writes at info, reads at debug.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		took := time.Since(start)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		status := strconv.Itoa(ww.Status())
		method := httpx.MethodLabel(r.Method)
		s.requests.WithLabelValues(route, method, status).Inc()
		s.latency.WithLabelValues(route, method, status).Observe(took.Seconds())
		level := slog.LevelInfo
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			level = slog.LevelDebug
		}
		attrs := []any{"request_id", middleware.GetReqID(r.Context()), "method", r.Method, "route", route,
			"path", r.URL.Path, "status", ww.Status(), "duration_ms", float64(took.Microseconds()) / 1000}
		if info.owner != 0 {
			attrs = append(attrs, "owner_id", info.owner)
		}
		s.logger.Log(r.Context(), level, "request", attrs...)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("%w: %w", nearby.Errorf(nearby.EUNAVAILABLE, "the database is not reachable"), err)
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	return httpx.Write(w, s.openapi)
}
