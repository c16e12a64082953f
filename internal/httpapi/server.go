// Package httpapi is searchd's HTTP interface: chi routes, query parsing,
// JSON and GeoJSON answers, RFC 9457 problem documents and Prometheus
// metrics. Handlers return errors; one adapter turns them into responses.
package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/httpx"
	"github.com/nearby/nearby/internal/problem"
	"github.com/nearby/nearby/internal/web"
)

// MaxQueryBytes bounds the length of a request's query string.
const MaxQueryBytes = 4096

// Server routes searchd's HTTP API.
type Server struct {
	search  nearby.SearchService
	logger  *slog.Logger
	openapi []byte
	router  chi.Router

	details    nearby.DetailService              // nil: details are the index's summaries (WithDetails)
	middleware []func(http.Handler) http.Handler // e.g. rate limiting (WithMiddleware)

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer returns the HTTP API over svc. Metrics are registered on reg and
// served from gatherer at /metrics; openapi is served at /openapi.yaml.
func NewServer(svc nearby.SearchService, logger *slog.Logger, reg prometheus.Registerer, gatherer prometheus.Gatherer, openapi []byte, opts ...Option) *Server {
	s := &Server{search: svc, logger: logger, openapi: openapi}
	for _, o := range opts {
		o(s)
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nearby_http_requests_total",
		Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nearby_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status.",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "status"})
	reg.MustRegister(s.requests, s.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "nearby_index_businesses",
			Help: "Businesses in the index being served.",
		}, func() float64 { st, _ := svc.Stats(); return float64(st.Count) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "nearby_index_bytes",
			Help: "Bytes held by the index being served (spatial index and names).",
		}, func() float64 {
			st, _ := svc.Stats()
			n := 0
			for _, r := range st.Regions {
				n += r.IndexSize + r.ColdSize
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "nearby_index_version",
			Help: "Newest region build version of the index being served (Unix ms).",
		}, func() float64 {
			st, _ := svc.Stats()
			var v uint64
			for _, r := range st.Regions {
				v = max(v, r.Version)
			}
			return float64(v)
		}),
	)

	r := chi.NewRouter()
	r.Use(middleware.RequestID, problem.EchoRequestID, s.observe, problem.Recoverer(s.logger), middleware.GetHead)
	r.Use(s.middleware...)
	r.Get("/healthz", s.handle(s.healthz))
	r.Get("/readyz", s.handle(s.readyz))
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	r.Get("/openapi.yaml", s.handle(s.openAPI))
	r.Get("/v1/search/nearby", s.handle(s.nearby))
	r.Get("/v1/search/box", s.handle(s.box))
	r.Post("/v1/search/within", s.handle(s.within))
	r.Get("/v1/businesses/{id}", s.handle(s.businessDetail))
	web.Routes(r, svc, s.handle) // the map explorer at / and the endpoints it reads
	if shards, ok := svc.(nearby.ShardService); ok {
		r.Get("/internal/v1/shard/nearby", s.handle(shardNearby(shards)))
		r.Get("/internal/v1/shard/businesses/{id}", s.handle(shardBusiness(shards)))
		r.Post("/internal/v1/shard/area", s.handle(shardArea(shards)))
		r.Get("/internal/v1/shard/density", s.handle(shardDensity(shards)))
	}
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return nearby.Errorf(nearby.ENOTFOUND, "no route for %s", r.URL.Path)
	}))
	r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		allow := "GET, HEAD" // every route is read-only but the area searches with bodies
		if r.URL.Path == "/v1/search/within" || r.URL.Path == "/internal/v1/shard/area" {
			allow = "POST"
		}
		w.Header().Set("Allow", allow)
		return errMethod
	}))
	s.router = r
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

var errMethod = errors.New("method not allowed")

// handle adapts a handler that returns an error: errors become problem
// documents, internal ones are logged once here with the request id.
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
		if errors.Is(err, errMethod) {
			problem.Write(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path, nil)
			return
		}
		if problem.ClientGone(r, err) {
			w.WriteHeader(problem.StatusClientClosed)
			return
		}
		if we := (*httpx.WriteError)(nil); errors.As(err, &we) {
			// The answer has begun: nothing more can be sent.
			s.logger.Debug("answer not delivered", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", we.Err)
			return
		}
		code := nearby.ErrorCode(err)
		if code == nearby.EINTERNAL {
			s.logger.Error("internal error", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "err", err)
		}
		var params []nearby.InvalidParam
		var de *nearby.Error
		if errors.As(err, &de) {
			params = de.Params
		}
		status := problem.Status(code)
		if code == nearby.EUNAVAILABLE {
			w.Header().Set("Retry-After", "1")
		}
		problem.Write(w, r, status, nearby.ErrorMessage(err), params)
	}
}

// observe counts requests and measures their latency by route pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		status := strconv.Itoa(ww.Status())
		s.requests.WithLabelValues(route, httpx.MethodLabel(r.Method), status).Inc()
		s.latency.WithLabelValues(route, status).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	st, ok := s.search.Stats()
	if !ok {
		return nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "index_version": st.Version, "businesses": st.Count})
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	return httpx.Write(w, s.openapi)
}
