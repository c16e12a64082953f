package problem

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nearby/nearby"
)

func TestStatusTable(t *testing.T) {
	for code, want := range map[string]int{
		nearby.EINVALID: 400, nearby.EUNAUTHORIZED: 401, nearby.EFORBIDDEN: 403, nearby.ENOTFOUND: 404,
		nearby.ECONFLICT: 409, nearby.EPRECONDITION: 412, nearby.EKEYREUSED: 422, nearby.EUNAVAILABLE: 503,
		nearby.EINTERNAL: 500, "no-such-code": 500,
	} {
		if got := Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("ETag", `"3"`)
	r := httptest.NewRequest(http.MethodGet, "/v1/x?lat=1", nil)
	Write(w, r, 400, "bad lat", []nearby.InvalidParam{{Name: "lat", Reason: "out of range"}})
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Code != 400 || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("ETag") != "" ||
		p.Status != 400 || p.Title != "Bad Request" || p.Detail != "bad lat" || p.Instance != "/v1/x" || p.InvalidParams[0].Name != "lat" {
		t.Fatalf("%d %v %+v", w.Code, w.Header(), p)
	}
}

func TestRecoverer(t *testing.T) {
	h := Recoverer(slog.New(slog.NewTextHandler(io.Discard, nil)))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("bug")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}

// TestInstanceIsURIReference: instance is the path as a URI reference
// (RFC 9457 §3.1.5), percent-encoded as sent, not decoded into spaces or
// invalid UTF-8.
func TestInstanceIsURIReference(t *testing.T) {
	for target, want := range map[string]string{
		"/v1/businesses/%2022906?x=1": "/v1/businesses/%2022906",
		"/v1/businesses/%FF":          "/v1/businesses/%FF",
		"/v1/search/box":              "/v1/search/box",
	} {
		w := httptest.NewRecorder()
		Write(w, httptest.NewRequest(http.MethodGet, target, nil), 400, "bad id", nil)
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Instance != want {
			t.Errorf("GET %s: instance %q, want %q", target, p.Instance, want)
		}
	}
}
