// Package web is searchd's map explorer: a page at / that draws the world
// from Natural Earth country outlines, runs a nearby search where a person
// clicks or picks a city (or a box search over the map's view), narrowed by
// price, rating, opening hours and name and ordered by distance or rating,
// shows each business's price, rating and weekly hours, and shows the index
// being served and where its businesses are. It also serves the read-only
// endpoints the page needs besides the search API: GET /v1/index,
// GET /v1/index/density and GET /v1/cities.
//
// Everything is embedded in the binary (static/: plain HTML, CSS and
// JavaScript, no build step), so the page works with no network but the
// one to searchd. Handlers return errors; the caller's adapter turns them
// into problem documents, like the rest of the API.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
)

//go:embed static
var static embed.FS

// Adapter turns a handler that returns an error into an http.HandlerFunc
// that writes the error as a problem document; httpapi.Server has one.
type Adapter func(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc

// DensityIndex counts businesses per grid cell; *search.Engine is one. See
// search.Engine.Density for the grid's layout.
type DensityIndex interface {
	Density(ctx context.Context, g nearby.DensityGrid) (*nearby.DensityCounts, error)
}

// Routes registers the explorer page at /, its assets under /static/, and
// GET /v1/index, /v1/index/density and /v1/cities on r, every handler
// wrapped by handle. The density endpoint answers only when svc is also a
// DensityIndex; otherwise it says so with a 404 problem.
func Routes(r chi.Router, svc nearby.SearchService, handle Adapter) {
	h := &handlers{svc: svc}
	h.density, _ = svc.(DensityIndex)
	r.Get("/", handle(h.page))
	r.Get("/static/{name}", handle(h.asset))
	r.Get("/v1/index", handle(h.index))
	r.Get("/v1/index/density", handle(h.densityGrid))
	r.Get("/v1/cities", handle(h.cities))
}

type handlers struct {
	svc     nearby.SearchService
	density DensityIndex
}

// asset is an embedded file ready to serve, with a gzip copy when that is
// smaller.
type asset struct {
	data, gz []byte
	etag     string // strong, of data; the gzip copy adds a suffix
	ctype    string
}

// loadAssets reads and compresses the embedded files once, on first use,
// so that starting searchd stays fast.
var loadAssets = sync.OnceValues(func() (map[string]*asset, error) {
	files, err := fs.ReadDir(static, "static")
	if err != nil {
		return nil, err
	}
	assets := make(map[string]*asset, len(files))
	for _, f := range files {
		data, err := static.ReadFile("static/" + f.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		a := &asset{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: contentType(f.Name())}
		if a.ctype != "image/png" {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(data)
			if err := zw.Close(); err != nil {
				return nil, err
			}
			if buf.Len() < len(data)*9/10 {
				a.gz = buf.Bytes()
			}
		}
		assets[f.Name()] = a
	}
	return assets, nil
})

func contentType(name string) string {
	switch path.Ext(name) {
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".json":
		return "application/json"
	case ".js":
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// pagePolicy lets the page load only its own assets and talk only to
// searchd: it works offline and cannot be framed.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (h *handlers) page(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Security-Policy", pagePolicy)
	return serveAsset(w, r, "index.html")
}

func (h *handlers) asset(w http.ResponseWriter, r *http.Request) error {
	return serveAsset(w, r, chi.URLParam(r, "name"))
}

// serveAsset serves an embedded file, gzip-compressed when the client takes
// it. Responses carry an ETag and must be revalidated, so a new binary's
// assets are picked up at once and an unchanged one costs a 304.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) error {
	assets, err := loadAssets()
	if err != nil {
		return fmt.Errorf("embedded assets: %w", err)
	}
	a, ok := assets[name]
	if !ok {
		return nearby.Errorf(nearby.ENOTFOUND, "no asset %q", name)
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	data, etag := a.data, a.etag
	if a.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			data, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	return nil
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip
// (RFC 9110 §12.5.3): listed, or covered by *, and not with q=0.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		refused := false
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				v = strings.TrimRight(strings.TrimSpace(v), "0")
				refused = v == "" || v == "." || v == "0" || v == "0."
			}
		}
		switch coding {
		case "gzip", "x-gzip":
			return !refused
		case "*":
			star = !refused
		}
	}
	return star
}
