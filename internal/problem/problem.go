// Package problem writes RFC 9457 problem documents for nearby's HTTP
// services and holds the one table that maps domain error codes to HTTP
// statuses.
package problem

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/nearby/nearby"
)

// Problem is an RFC 9457 problem document (application/problem+json).
type Problem struct {
	Type          string                `json:"type"`
	Title         string                `json:"title"`
	Status        int                   `json:"status"`
	Detail        string                `json:"detail"`
	Instance      string                `json:"instance,omitempty"`
	InvalidParams []nearby.InvalidParam `json:"invalid_params,omitempty"`
	RequestID     string                `json:"request_id,omitempty"`
}

// statuses maps domain error codes to HTTP statuses.
var statuses = map[string]int{
	nearby.EINVALID:      http.StatusBadRequest,
	nearby.EUNAUTHORIZED: http.StatusUnauthorized,
	nearby.EFORBIDDEN:    http.StatusForbidden,
	nearby.ENOTFOUND:     http.StatusNotFound,
	nearby.ECONFLICT:     http.StatusConflict,
	nearby.EPRECONDITION: http.StatusPreconditionFailed,
	nearby.EKEYREUSED:    http.StatusUnprocessableEntity,
	nearby.EUNAVAILABLE:  http.StatusServiceUnavailable,
	nearby.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status of a domain error code; unknown codes are
// internal errors.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// StatusClientClosed is the status a request is counted and logged with
// when its client went away before the answer (nginx's 499, "client closed
// request"): not a server error, and nobody reads it.
const StatusClientClosed = 499

// ClientGone reports whether err is r's own cancellation: its client went
// away (or the server is closing the connection).
func ClientGone(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && r.Context().Err() != nil
}

// Write writes a problem document for r with the status, a detail safe to
// show the client and the refused parameters, if any. The instance is the
// path as sent, percent-encoded: a URI reference (RFC 9457 §3.1.5), which
// the decoded path ("/v1/businesses/ 1") is not. Headers that only
// describe a success (ETag, Location) are dropped.
func Write(w http.ResponseWriter, r *http.Request, status int, detail string, params []nearby.InvalidParam) {
	p := Problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail,
		Instance: r.URL.EscapedPath(), InvalidParams: params, RequestID: middleware.GetReqID(r.Context()),
	}
	h := w.Header()
	h.Del("ETag")
	h.Del("Location")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// EchoRequestID returns the request id (set by chi's RequestID middleware)
// to the client in X-Request-Id, for bug reports.
func EchoRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(middleware.RequestIDHeader, middleware.GetReqID(r.Context()))
		next.ServeHTTP(w, r)
	})
}

// Recoverer turns a panic in a handler into a logged 500 problem document.
// Panics are bugs; this keeps one from taking the process down.
func Recoverer(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.Error("panic", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path, "panic", v)
					Write(w, r, http.StatusInternalServerError, "internal error", nil)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
