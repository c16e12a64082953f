package httpapi

import (
	"net/http"

	"github.com/nearby/nearby"
)

// Option configures a Server.
type Option func(*Server)

// WithDetails serves GET /v1/businesses/{id} from d: the full public
// record (address, description, photos...) instead of the index's summary.
func WithDetails(d nearby.DetailService) Option {
	return func(s *Server) { s.details = d }
}

// WithMiddleware adds middleware after the server's own (request id,
// metrics, recovery), such as rate limiting: its answers are counted and
// carry the request id.
func WithMiddleware(mw ...func(http.Handler) http.Handler) Option {
	return func(s *Server) { s.middleware = append(s.middleware, mw...) }
}
