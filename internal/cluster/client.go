package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/httpx"
)

// Client asks other nodes for regions. It is safe for concurrent use.
type Client struct {
	self   string
	http   *http.Client
	logger *slog.Logger

	// ShardTimeout bounds one region's part of a search, hedges included.
	ShardTimeout time.Duration
	// HedgeAfter is how long the first replica has before a second is asked too.
	HedgeAfter time.Duration

	cluster atomic.Pointer[Map]
	mu      sync.Mutex
	up      map[string]bool // node → last known health; absent = unknown (tried)
	turn    atomic.Uint64   // rotates the first replica asked, to spread load

	requests    *prometheus.CounterVec
	hedges      prometheus.Counter
	unavailable *prometheus.CounterVec
	nodeUp      *prometheus.GaugeVec
}

// NewClient returns a client for node self of the cluster m, with its
// metrics registered on reg.
func NewClient(m *Map, self string, logger *slog.Logger, reg prometheus.Registerer) *Client {
	c := &Client{
		self: self,
		http: &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
			// A peer is the address the map gives, nothing else: a redirect
			// is that peer's failure, not a pointer to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger:       logger,
		ShardTimeout: 300 * time.Millisecond,
		HedgeAfter:   25 * time.Millisecond,
		up:           map[string]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nearby_cluster_shard_requests_total",
			Help: "Requests to other nodes for a region's part of a search, by node and result.",
		}, []string{"node", "result"}),
		hedges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nearby_cluster_hedged_requests_total",
			Help: "Second replicas asked because the first was slow or failed.",
		}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nearby_cluster_region_unavailable_total",
			Help: "Searches answered partially because no replica of the region answered, by region.",
		}, []string{"region"}),
		nodeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "nearby_cluster_node_up",
			Help: "Whether the last health probe of a peer succeeded (1) or not (0).",
		}, []string{"node"}),
	}
	c.cluster.Store(m)
	reg.MustRegister(c.requests, c.hedges, c.unavailable, c.nodeUp)
	return c
}

// SetMap replaces the cluster map (on reload).
func (c *Client) SetMap(m *Map) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cluster.Store(m)
	// Nodes the map no longer names are forgotten: their health, and
	// their nearby_cluster_node_up series, which would go on saying up.
	for node := range c.up {
		if _, ok := m.Nodes[node]; !ok {
			delete(c.up, node)
			c.nodeUp.DeleteLabelValues(node)
		}
	}
}

// Probe checks every peer's /readyz every interval until ctx ends. A peer
// that fails is asked last until a probe succeeds again.
func (c *Client) Probe(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		m := c.cluster.Load()
		var wg sync.WaitGroup
		for name := range m.Nodes {
			if name == c.self {
				continue
			}
			base := m.base(name)
			wg.Go(func() {
				pctx, cancel := context.WithTimeout(ctx, interval*8/10)
				defer cancel()
				ok := false
				req, err := http.NewRequestWithContext(pctx, http.MethodGet, base+"/readyz", nil)
				if err == nil {
					if resp, err := c.http.Do(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						ok = resp.StatusCode == http.StatusOK
					}
				}
				if ctx.Err() != nil {
					return // probing stopped (shutdown): says nothing of the peer
				}
				c.setUp(name, ok)
			})
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Client) setUp(node string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, named := c.cluster.Load().Nodes[node]; !named {
		return // a probe of a map since replaced
	}
	was, known := c.up[node]
	c.up[node] = ok
	if known && was != ok {
		c.logger.Warn("peer health changed", "node", node, "up", ok)
	}
	c.nodeUp.WithLabelValues(node).Set(map[bool]float64{true: 1}[ok])
}

type replica struct{ name, base string }

// replicas returns the peers holding region, healthy ones first, rotated so
// load spreads across them.
func (c *Client) replicas(region string) []replica {
	m := c.cluster.Load()
	var good, bad []replica
	c.mu.Lock()
	for _, n := range m.Regions[region] {
		if n == c.self {
			continue
		}
		r := replica{n, m.base(n)}
		if up, known := c.up[n]; known && !up {
			bad = append(bad, r)
		} else {
			good = append(good, r)
		}
	}
	c.mu.Unlock()
	if len(good) > 1 {
		k := int(c.turn.Add(1) % uint64(len(good)))
		good = append(good[k:], good[:k]...)
	}
	return append(good, bad...)
}

// errDefinitive marks an answer no other replica would change (not found).
var errDefinitive = errors.New("definitive")

// errNotFound is a 404 without httpx.NotHeldHeader: the node does not
// serve the route (an older release, a wrong address), and another replica
// is asked.
var errNotFound = errors.New("not found")

// ask runs get against the region's replicas: the first, then a second if
// the first fails or has not answered within HedgeAfter, and so on, until
// one answers or ShardTimeout passes.
func ask[T any](ctx context.Context, c *Client, region string, get func(ctx context.Context, base string) (T, error)) (T, error) {
	var zero T
	reps := c.replicas(region)
	if len(reps) == 0 {
		return zero, nearby.Errorf(nearby.EUNAVAILABLE, "no node holds region %q", region)
	}
	ctx, cancel := context.WithTimeout(ctx, c.ShardTimeout)
	defer cancel()
	type result struct {
		v    T
		err  error
		node string
	}
	results := make(chan result, len(reps))
	next, pending := 0, 0
	launch := func() {
		r := reps[next]
		next++
		pending++
		go func() {
			v, err := get(ctx, r.base)
			results <- result{v, err, r.name}
		}()
	}
	launch()
	hedge := time.NewTimer(c.HedgeAfter)
	defer hedge.Stop()
	var lastErr error
	for pending > 0 {
		select {
		case r := <-results:
			pending--
			if r.err == nil || errors.Is(r.err, errDefinitive) {
				c.requests.WithLabelValues(r.node, "ok").Inc()
				return r.v, r.err
			}
			lastErr = r.err
			result := "error"
			if errors.Is(ctx.Err(), context.Canceled) {
				result = "cancelled" // by the caller: it left, or another region answered a lookup
			} else if ctx.Err() != nil {
				result = "timeout"
			} else {
				c.setUp(r.node, false) // ask it last until a probe says otherwise
			}
			c.requests.WithLabelValues(r.node, result).Inc()
			if next < len(reps) && ctx.Err() == nil {
				c.hedges.Inc() // a further replica asked because one failed
				launch()
			}
		case <-hedge.C:
			// Not once ctx is done: the request would fail at once, and
			// count as a hedge and a timeout of a replica never asked.
			if next < len(reps) && ctx.Err() == nil {
				c.hedges.Inc()
				launch()
				// The next replica in turn gets the same delay: two slow
				// replicas must not leave a third unasked until the
				// deadline.
				hedge.Reset(c.HedgeAfter)
			}
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return zero, fmt.Errorf("region %q: %w", region, ctx.Err()) // the caller gave up: not the region's doing
	}
	return zero, nearby.Errorf(nearby.EUNAVAILABLE, "region %q: no replica answered: %v", region, lastErr)
}

// Shard asks a replica of region for its best q.Limit results after the
// cursor. It implements search.Shards.
func (c *Client) Shard(ctx context.Context, region string, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error) {
	v := url.Values{}
	v.Set("region", region)
	v.Set("lat", strconv.FormatFloat(q.Lat, 'g', -1, 64))
	v.Set("lon", strconv.FormatFloat(q.Lon, 'g', -1, 64))
	v.Set("radius", strconv.FormatFloat(q.RadiusM, 'g', -1, 64))
	v.Set("limit", strconv.Itoa(q.Limit))
	if q.Categories != 0 {
		v.Set("category", strconv.FormatUint(uint64(q.Categories), 10))
	}
	if q.Prices != 0 {
		v.Set("price", strconv.FormatUint(uint64(q.Prices), 10))
	}
	if q.MinRating != nearby.Unrated {
		v.Set("min_rating", strconv.FormatUint(uint64(q.MinRating), 10))
	}
	if !q.OpenAt.IsZero() {
		v.Set("open_at", q.OpenAt.Format(time.RFC3339Nano))
	}
	if q.Name != "" {
		v.Set("q", q.Name)
	}
	if q.Sort == nearby.SortRating {
		v.Set("sort", "rating")
	}
	if q.Total {
		v.Set("total", "true")
	}
	if after != nil {
		v.Set("after_rating", strconv.FormatUint(uint64(after.Rating), 10))
		v.Set("after_distance", strconv.FormatFloat(after.DistanceM, 'g', -1, 64))
		v.Set("after_id", strconv.FormatInt(after.ID, 10))
	}
	a, err := ask(ctx, c, region, func(ctx context.Context, base string) (*nearby.ShardAnswer, error) {
		var w wireAnswer
		if err := c.get(ctx, base+"/internal/v1/shard/nearby?"+v.Encode(), &w); err != nil {
			return nil, err
		}
		return w.answer(region, base)
	})
	if err != nil {
		c.regionFailed(ctx, region, "region unavailable; answering partially", err)
	}
	return a, err
}

// Area asks a replica of region for its best q.Limit matches of an area
// search after the cursor. It implements search.Shards.
func (c *Client) Area(ctx context.Context, region string, q nearby.AreaQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error) {
	req := map[string]any{
		"region": region, "limit": q.Limit, "category": uint32(q.Categories), "price": uint8(q.Prices),
		"min_rating": uint8(q.MinRating), "q": q.Name, "by_distance": q.ByDistance,
	}
	if q.Shape != nil {
		req["shape"] = q.Shape
	} else {
		req["box"] = q.Box
	}
	if !q.OpenAt.IsZero() {
		req["open_at"] = q.OpenAt
	}
	if after != nil {
		req["after"] = map[string]any{"distance_m": after.DistanceM, "id": after.ID}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	a, err := ask(ctx, c, region, func(ctx context.Context, base string) (*nearby.ShardAnswer, error) {
		var w wireAnswer
		if err := c.do(ctx, http.MethodPost, base+"/internal/v1/shard/area", body, &w); err != nil {
			return nil, err
		}
		return w.answer(region, base)
	})
	if err != nil {
		c.regionFailed(ctx, region, "region unavailable; answering partially", err)
	}
	return a, err
}

// regionFailed counts and logs a region no replica answered for, unless
// the caller gave up (the client hung up): that is not the region's doing.
func (c *Client) regionFailed(ctx context.Context, region, msg string, err error) {
	if ctx.Err() != nil {
		return
	}
	c.unavailable.WithLabelValues(region).Inc()
	c.logger.Warn(msg, "region", region, "err", err)
}

// Business asks a replica of region for a business by id.
func (c *Client) Business(ctx context.Context, region string, id int64) (*nearby.Business, error) {
	b, err := ask(ctx, c, region, func(ctx context.Context, base string) (*nearby.Business, error) {
		var w wireResult
		u := fmt.Sprintf("%s/internal/v1/shard/businesses/%d?region=%s", base, id, url.QueryEscape(region))
		if err := c.get(ctx, u, &w); err != nil {
			return nil, err
		}
		b, err := w.business()
		return &b, err
	})
	if errors.Is(err, errDefinitive) {
		return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
	}
	return b, err
}

// Density asks a replica of region for its density grid. It implements
// search.Shards.
func (c *Client) Density(ctx context.Context, region string, g nearby.DensityGrid) (*nearby.ShardAnswer, error) {
	v := url.Values{}
	v.Set("region", region)
	v.Set("min_lat", strconv.FormatFloat(g.Box.MinLat, 'g', -1, 64))
	v.Set("min_lon", strconv.FormatFloat(g.Box.MinLon, 'g', -1, 64))
	v.Set("max_lat", strconv.FormatFloat(g.Box.MaxLat, 'g', -1, 64))
	v.Set("max_lon", strconv.FormatFloat(g.Box.MaxLon, 'g', -1, 64))
	v.Set("cols", strconv.Itoa(g.Cols))
	v.Set("rows", strconv.Itoa(g.Rows))
	v.Set("category", strconv.FormatUint(uint64(g.Categories), 10))
	a, err := ask(ctx, c, region, func(ctx context.Context, base string) (*nearby.ShardAnswer, error) {
		var w wireAnswer
		if err := c.get(ctx, base+"/internal/v1/shard/density?"+v.Encode(), &w); err != nil {
			return nil, err
		}
		a, err := w.answer(region, base)
		if err == nil && len(a.Counts) != g.Cols*g.Rows {
			err = fmt.Errorf("bad shard density for %q from %s: %d counts", region, base, len(a.Counts))
		}
		return a, err
	})
	if err != nil {
		c.regionFailed(ctx, region, "region unavailable; density counted partially", err)
	}
	return a, err
}

// wireAnswer is a region's part of a search on the wire.
type wireAnswer struct {
	Region      string       `json:"region"`
	Version     string       `json:"version"`
	Results     []wireResult `json:"results"`
	Total       int          `json:"total"`
	TotalCapped bool         `json:"total_capped"`
	Counts      []int        `json:"counts,omitempty"` // density
}

func (w *wireAnswer) answer(region, base string) (*nearby.ShardAnswer, error) {
	ver, err := strconv.ParseUint(w.Version, 10, 64)
	if err != nil || w.Region != region {
		return nil, fmt.Errorf("bad shard answer for %q from %s", region, base)
	}
	a := &nearby.ShardAnswer{Region: w.Region, Version: ver, Results: make([]nearby.SearchResult, len(w.Results)),
		Total: w.Total, TotalCapped: w.TotalCapped, Counts: w.Counts}
	for i, r := range w.Results {
		b, err := r.business()
		if err != nil {
			return nil, err
		}
		a.Results[i] = nearby.SearchResult{Business: b, DistanceM: r.DistanceM}
	}
	return a, nil
}

// drainWait bounds the wait for the rest of a body once its answer is
// read or its status says it failed: on a LAN it is there already.
const drainWait = 50 * time.Millisecond

// get fetches a JSON document; see do for a 404.
func (c *Client) get(ctx context.Context, u string, v any) error {
	return c.do(ctx, http.MethodGet, u, nil, v)
}

// do sends a request (a JSON body if any) and decodes a JSON answer. A 404
// is errDefinitive when the node says it does not hold what was asked for
// (httpx.NotHeldHeader), else errNotFound.
func (c *Client) do(ctx context.Context, method, u string, body []byte, v any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		// Read what is left (the decoder stops at the end of the value, an
		// error's body is not read): a body closed before its end costs
		// the connection, and the next request to the peer a new one. But
		// not for long: a peer that sent its answer, or an error status,
		// and holds the rest of the body must not hold the search (or the
		// next replica's turn) until the deadline; past drainWait its
		// connection is given up.
		t := time.AfterFunc(drainWait, cancel)
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		t.Stop()
		resp.Body.Close()
	}()
	switch resp.StatusCode {
	case http.StatusOK:
		return json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(v)
	case http.StatusNotFound:
		if resp.Header.Get(httpx.NotHeldHeader) != "" {
			return errDefinitive
		}
		return fmt.Errorf("%s: %w", u, errNotFound)
	}
	return fmt.Errorf("%s: status %d", u, resp.StatusCode)
}

// wireResult is a business (with its distance in shard answers) on the wire.
type wireResult struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	DistanceM   float64         `json:"distance_m"`
	Price       uint8           `json:"price"`
	Rating      *float64        `json:"rating"`
	ReviewCount uint32          `json:"review_count"`
	Hours       *hours.Schedule `json:"hours"` // in business lookups
}

func (r wireResult) business() (nearby.Business, error) {
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil {
		return nearby.Business{}, fmt.Errorf("bad id %q", r.ID)
	}
	cat, err := nearby.ParseCategory(r.Category)
	if err != nil || math.IsNaN(r.DistanceM) || !nearby.Price(r.Price).Valid() {
		return nearby.Business{}, fmt.Errorf("bad business %q", r.ID)
	}
	b := nearby.Business{ID: id, Name: r.Name, Category: cat, Lat: r.Lat, Lon: r.Lon,
		Price: nearby.Price(r.Price), ReviewCount: r.ReviewCount, Hours: r.Hours}
	if r.Rating != nil {
		if b.Rating, err = nearby.ParseRating(strconv.FormatFloat(*r.Rating, 'f', -1, 64)); err != nil {
			return nearby.Business{}, fmt.Errorf("bad rating of business %q", r.ID)
		}
	}
	return b, nil
}
