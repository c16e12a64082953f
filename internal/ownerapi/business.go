package ownerapi

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/httpx"
)

// businessJSON is a business as its owner sees it. Ids are decimal strings,
// as in search results, so that JavaScript clients keep every digit.
// Attributes that are not set are null (review_count 0).
type businessJSON struct {
	ID          string          `json:"id"`
	OwnerID     string          `json:"owner_id"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	Address     string          `json:"address"`
	City        string          `json:"city"`
	State       string          `json:"state"`
	Country     string          `json:"country"`
	Zip         string          `json:"zip"`
	Description string          `json:"description"`
	Photos      []string        `json:"photos"`
	Price       *nearby.Price   `json:"price"`
	Rating      *float64        `json:"rating"` // stars
	ReviewCount uint32          `json:"review_count"`
	Hours       *hours.Schedule `json:"hours"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func toJSON(r *nearby.BusinessRecord) businessJSON {
	photos := r.Photos
	if photos == nil {
		photos = []string{}
	}
	b := businessJSON{
		ID: strconv.FormatInt(r.ID, 10), OwnerID: strconv.FormatInt(r.OwnerID, 10), Name: r.Name,
		Category: r.Category.String(), Lat: r.Lat, Lon: r.Lon, Address: r.Address, City: r.City, State: r.State,
		Country: r.Country, Zip: r.Zip, Description: r.Description, Photos: photos, ReviewCount: r.ReviewCount,
		Hours: r.Hours, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Price != 0 {
		b.Price = &r.Price
	}
	if r.Rating.Rated() {
		b.Rating = ptr(r.Rating.Stars())
	}
	return b
}

// etag is a record's entity tag: its version, quoted.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// writeRecord answers with rec, its ETag and no caching: owners' views are
// private and change.
func writeRecord(w http.ResponseWriter, status int, rec *nearby.BusinessRecord) error {
	w.Header().Set("ETag", etag(rec.Version))
	w.Header().Set("Cache-Control", "no-store")
	return httpx.WriteJSON(w, status, toJSON(rec))
}

// writeContext bounds a write by the request timeout but not by the
// client: a write the client abandons still completes or fails cleanly,
// instead of being cut off at an arbitrary point in its transaction.
func (s *Server) writeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), s.timeout)
}

func (s *Server) readContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.timeout)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("id", "must be a positive decimal integer")
	}
	return id, nil
}

const jsonType, mergePatchType = "application/json", "application/merge-patch+json"

func (s *Server) create(w http.ResponseWriter, r *http.Request, owner int64) error {
	key := r.Header.Get("Idempotency-Key")
	if _, sent := r.Header["Idempotency-Key"]; sent && !nearby.ValidIdempotencyKey(key) {
		return invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
	}
	body, err := readBody(w, r, jsonType)
	if err != nil {
		return err
	}
	in, err := decodeInput(body, false)
	if err != nil {
		return err
	}
	ctx, cancel := s.writeContext(r)
	defer cancel()
	rec, replayed, err := s.svc.Create(ctx, owner, key, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/businesses/"+strconv.FormatInt(rec.ID, 10))
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return writeRecord(w, http.StatusCreated, rec)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, owner int64) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx, cancel := s.readContext(r)
	defer cancel()
	rec, err := s.svc.Get(ctx, owner, id)
	if err != nil {
		return err
	}
	// A list may come in several header lines (RFC 9110 §5.3).
	if inm := strings.Join(r.Header.Values("If-None-Match"), ","); inm != "" && matches(inm, rec.Version) {
		w.Header().Set("ETag", etag(rec.Version))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writeRecord(w, http.StatusOK, rec)
}

// matches reports whether an If-None-Match list names version (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(list string, version int64) bool {
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag(version) {
			return true
		}
	}
	return false
}

// ifMatch returns the version an If-Match header names: 0 for "*" (any
// current version). The header is required on replace and patch: without
// it the request is refused with 428, so that no owner overwrites a change
// they have not seen. A weak or malformed tag can never match: 412. Nor
// can another spelling of a version ("+3", "03"): entity tags compare
// character by character (RFC 9110). A bare version number (3, without
// the quotes) is accepted as its ETag, deliberately: clients that send
// the version field they read mean exactly that version.
func ifMatch(r *http.Request, required bool) (int64, error) {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		if required {
			return 0, &statusError{http.StatusPreconditionRequired,
				"If-Match is required: send the ETag of the version you are changing (GET the business to learn it)"}
		}
		return 0, nil
	}
	v := strings.TrimSpace(strings.Join(vals, ","))
	if v == "*" {
		return 0, nil
	}
	if strings.Contains(v, ",") {
		return 0, invalid("If-Match", "send one entity tag, the ETag of the version you are changing")
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
	n, err := strconv.ParseInt(inner, 10, 64)
	if err != nil || n <= 0 || inner != strconv.FormatInt(n, 10) || (inner != v && len(v) != len(inner)+2) {
		return 0, nearby.Errorf(nearby.EPRECONDITION, "If-Match %s does not match the current ETag", quote(v))
	}
	return n, nil
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request, owner int64) error {
	return s.update(w, r, owner, false)
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, owner int64) error {
	return s.update(w, r, owner, true)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, owner int64, patch bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r, true)
	if err != nil {
		return err
	}
	types := []string{jsonType}
	if patch {
		types = []string{mergePatchType, jsonType}
	}
	body, err := readBody(w, r, types...)
	if err != nil {
		return err
	}
	in, err := decodeInput(body, patch)
	if err != nil {
		return err
	}
	ctx, cancel := s.writeContext(r)
	defer cancel()
	var rec *nearby.BusinessRecord
	if patch {
		rec, err = s.svc.Patch(ctx, owner, id, version, in)
	} else {
		rec, err = s.svc.Replace(ctx, owner, id, version, in)
	}
	if err != nil {
		return err
	}
	return writeRecord(w, http.StatusOK, rec)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, owner int64) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r, false)
	if err != nil {
		return err
	}
	ctx, cancel := s.writeContext(r)
	defer cancel()
	if err := s.svc.Delete(ctx, owner, id, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listJSON is a page of an owner's businesses, in the envelope of search
// answers.
type listJSON struct {
	Results    []businessJSON `json:"results"`
	Count      int            `json:"count"`
	NextCursor *string        `json:"next_cursor"`
}

var listParams = []string{"cursor", "limit"}

func (s *Server) list(w http.ResponseWriter, r *http.Request, owner int64) error {
	p := httpx.NewParams(httpx.Query(r), listParams...)
	limit := p.IntIn("limit", nearby.DefaultLimit, 1, nearby.MaxLimit)
	var after int64
	if v := p.Get("cursor"); v != "" {
		var err error
		if after, err = decodeListCursor(v); err != nil {
			p.Fail("cursor", "malformed cursor: pass next_cursor back unchanged")
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	ctx, cancel := s.readContext(r)
	defer cancel()
	recs, next, err := s.svc.List(ctx, owner, after, limit)
	if err != nil {
		return err
	}
	out := listJSON{Results: make([]businessJSON, len(recs)), Count: len(recs)}
	for i, rec := range recs {
		out.Results[i] = toJSON(rec)
	}
	if next != 0 {
		c := encodeListCursor(next)
		out.NextCursor = &c
	}
	w.Header().Set("Cache-Control", "no-store")
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// List cursors are opaque to clients: base64url of a format byte and the
// last id of the page.
const listCursorFormat = 1

var errCursor = errors.New("malformed cursor")

func encodeListCursor(afterID int64) string {
	b := binary.BigEndian.AppendUint64([]byte{listCursorFormat}, uint64(afterID))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeListCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 9 || b[0] != listCursorFormat {
		return 0, errCursor
	}
	id := int64(binary.BigEndian.Uint64(b[1:]))
	if id <= 0 {
		return 0, errCursor
	}
	return id, nil
}
