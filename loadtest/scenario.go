package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nearby/nearby"
)

// implemented lists the scenarios this package can run; k6/scenarios.json
// must describe exactly these (and k6/lib.js implement them too).
var implemented = []string{"search", "details", "owner", "mixed", "ceiling"}

// errStop ends an iteration early: the request budget is spent.
var errStop = errors.New("request budget spent")

// maxBody bounds how much of a response is read; the rest is discarded.
const maxBody = 4 << 20

// iteration is one run of a scenario: its index, its own random stream
// (so that what iteration i does depends only on the seed and i, not on
// timing) and the time its next request was due.
type iteration struct {
	r   *runner
	i   int64
	rng *rand.Rand
	// due is when the next request should have been sent: the scheduled
	// start of the iteration for its first request in open loop. Later
	// requests depend on earlier answers, so they are due when sent.
	due time.Time
	// prepaid requests were reserved from the budget in advance.
	prepaid int
}

// reply is a response as the scenarios need it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// run runs scenario name.
func (it *iteration) run(ctx context.Context, name string) error {
	switch name {
	case "search":
		return it.search(ctx)
	case "details":
		return it.details(ctx)
	case "owner":
		return it.owner(ctx)
	case "mixed":
		return it.run(ctx, it.r.pickScenario(it.rng.Float64()))
	case "ceiling":
		_, _, err := it.do(ctx, ReqHealthz, http.MethodGet, it.r.target+"/healthz", nil, nil, wantStatus(200), nil)
		return err
	}
	return fmt.Errorf("unknown scenario %q", name)
}

// firstRequest returns the name of the first request iteration it would
// send in scenario name; for mixed, it draws the scenario as run would.
func (it *iteration) firstRequest(name string) string {
	switch name {
	case "owner":
		return ReqOwnerCreate
	case "ceiling":
		return ReqHealthz
	case "mixed":
		return it.firstRequest(it.r.pickScenario(it.rng.Float64()))
	}
	return ReqSearch
}

// page is the part of a search answer the scenarios follow.
type page struct {
	Results []struct {
		ID string `json:"id"`
	} `json:"results"`
	NextCursor *string `json:"next_cursor"`
}

// search: a query from the mix, then with probability next_page each, up
// to max_pages pages in all.
func (it *iteration) search(ctx context.Context) error {
	sc := it.r.scenarios["search"]
	q := it.r.query(it.i)
	var p page
	into := func(follow bool) any {
		p = page{}
		if follow {
			return &p
		}
		return nil
	}
	follow := it.rng.Float64() < sc.NextPage
	_, ok, err := it.do(ctx, ReqSearch, http.MethodGet, it.r.target+q.Path, nil, nil, wantStatus(200), into(follow))
	for pages := 1; ok && follow && pages < sc.MaxPages && p.NextCursor != nil; pages++ {
		u := it.r.target + q.Path + "&cursor=" + url.QueryEscape(*p.NextCursor)
		follow = it.rng.Float64() < sc.NextPage
		_, ok, err = it.do(ctx, ReqSearchPage, http.MethodGet, u, nil, nil, wantStatus(200), into(follow))
	}
	return err
}

// details: a query from the mix, then one of its first top results.
func (it *iteration) details(ctx context.Context) error {
	sc := it.r.scenarios["details"]
	q := it.r.query(it.i)
	var p page
	_, ok, err := it.do(ctx, ReqSearch, http.MethodGet, it.r.target+q.Path, nil, nil, wantStatus(200), &p)
	if !ok || len(p.Results) == 0 {
		return err
	}
	id := p.Results[it.rng.IntN(min(len(p.Results), max(sc.Top, 1)))].ID
	_, _, err = it.do(ctx, ReqDetails, http.MethodGet, it.r.target+"/v1/businesses/"+url.PathEscape(id), nil, nil, wantStatus(200), nil)
	return err
}

// ownerRequests is the length of the owner life cycle.
const ownerRequests = 4

// owner: create a shop where the query is, read it, rename it with the
// ETag, delete it. The four requests are reserved together, so a request
// budget never leaves a shop behind.
func (it *iteration) owner(ctx context.Context) error {
	if !it.r.reserve(ownerRequests) {
		return errStop
	}
	it.prepaid = ownerRequests
	defer func() { it.prepaid = 0 }()
	q := it.r.query(it.i)
	cat := nearby.Category(it.i % int64(len(nearby.Categories())))
	if len(q.Categories) > 0 {
		cat, _ = nearby.ParseCategory(q.Categories[0])
	}
	name := fmt.Sprintf("Loadtest Shop %d-%d", it.r.seed, it.i)
	body, _ := json.Marshal(map[string]any{"name": name, "category": cat.String(), "lat": q.Lat, "lon": q.Lon})
	base := it.r.ownerURL + "/v1/businesses"

	var created struct {
		ID json.RawMessage `json:"id"`
	}
	rep, ok, err := it.do(ctx, ReqOwnerCreate, http.MethodPost, base, body, it.r.ownerHeader(""), wantStatus(201, 200), &created)
	if !ok {
		return err
	}
	id := createdID(created.ID, rep.header)
	if id == "" {
		// The shop may exist, but without its id it cannot be cleaned up.
		it.r.rec.sample(ReqOwnerCreate + ": no id in the answer (neither \"id\" nor Location)")
		return nil
	}
	etag := rep.header.Get("ETag")
	u := base + "/" + url.PathEscape(id)

	rep, ok, err = it.do(ctx, ReqOwnerRead, http.MethodGet, u, nil, it.r.ownerHeader(""), wantStatus(200), nil)
	if ok && rep.header.Get("ETag") != "" {
		etag = rep.header.Get("ETag")
	}
	if err != nil {
		return err
	}
	body, _ = json.Marshal(map[string]any{"name": name + " (renamed)"})
	rep, ok, err = it.do(ctx, ReqOwnerUpdate, http.MethodPatch, u, body, it.r.ownerHeader(etag), wantStatus(200, 204), nil)
	if ok && rep.header.Get("ETag") != "" {
		etag = rep.header.Get("ETag")
	}
	if err != nil {
		return err
	}
	_, _, err = it.do(ctx, ReqOwnerDelete, http.MethodDelete, u, nil, it.r.ownerHeader(etag), wantStatus(204, 200), nil)
	return err
}

// createdID finds the new business's id: "id" in the body (a string or a
// number), else the last segment of the Location header; "" if neither.
func createdID(raw json.RawMessage, h http.Header) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil && n != "" {
		return n.String()
	}
	loc := h.Get("Location")
	if i := strings.LastIndexByte(loc, '/'); i >= 0 && i < len(loc)-1 {
		return loc[i+1:]
	}
	return ""
}

// wantStatus returns a check that accepts exactly the given statuses.
func wantStatus(codes ...int) func(int) bool {
	return func(c int) bool {
		for _, w := range codes {
			if c == w {
				return true
			}
		}
		return false
	}
}

// do sends one request and records it under name. It reads the whole
// body and, if into is not nil and the status is accepted, decodes it as
// JSON into into (an answer that does not decode is a failed request). ok
// reports success. err is non-nil only when the iteration must end: the
// budget is spent or the run is being cancelled.
func (it *iteration) do(ctx context.Context, name, method, u string, body []byte, hdr http.Header, accept func(int) bool, into any) (rep reply, ok bool, err error) {
	if it.prepaid > 0 {
		it.prepaid--
	} else if !it.r.reserve(1) {
		return rep, false, errStop
	}
	start := it.due
	it.due = time.Time{}
	if start.IsZero() {
		start = time.Now()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return rep, false, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := it.r.client.Do(req)
	if err == nil {
		rep.status, rep.header = resp.StatusCode, resp.Header
		lr := io.LimitReader(resp.Body, maxBody)
		if into != nil || !accept(resp.StatusCode) {
			rep.body, err = io.ReadAll(lr)
		} else {
			_, err = io.Copy(io.Discard, lr)
		}
		io.Copy(io.Discard, resp.Body) // the rest, so the connection is reused
		resp.Body.Close()
	}
	end := time.Now()
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if it.r.hardStop.Load() {
			// Cut off at the end of the grace period: it never completed.
			it.r.rec.record(result{name: name, latency: end.Sub(start), end: end, status: 0, err: "cut off at the end of the run"})
		}
		return rep, false, ctx.Err()
	}
	res := result{name: name, latency: end.Sub(start), end: end, status: rep.status}
	switch {
	case err != nil:
		res.err = transportError(err)
	case !accept(rep.status):
		res.err = statusError(rep)
	case into != nil:
		if derr := json.Unmarshal(rep.body, into); derr != nil {
			res.err = "undecodable answer: " + derr.Error()
		}
	}
	it.r.rec.record(res)
	return rep, res.err == "", nil
}

// transportError describes a failed request without its URL, so that the
// same failure on different queries is one error sample. Every timeout is
// "timeout": the one that fires while the body is read is no *url.Error
// (net/http's "context deadline exceeded (Client.Timeout or context
// cancellation while reading body)").
func transportError(err error) string {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// statusError describes an unexpected status, with the problem document's
// detail when there is one.
func statusError(rep reply) string {
	msg := "HTTP " + strconv.Itoa(rep.status) + " " + http.StatusText(rep.status)
	var p struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(rep.body, &p) == nil && p.Detail != "" {
		d := p.Detail
		if len(d) > 160 {
			d = d[:160] + "..."
		}
		msg += ": " + d
	}
	return msg
}
