package httpx

import "net/http"

// MethodLabel is a request's method as a metric label: the client picks
// it, so any but the standard ones counts as OTHER, keeping the series
// bounded.
func MethodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
