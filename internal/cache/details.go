package cache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
)

// Defaults of DetailsConfig and InvalidatorConfig.
const (
	// DefaultDetailTTL keeps a detail cached for 5 minutes. Owners' writes
	// replace entries at once (Invalidator), so the TTL matters only when
	// that failed (Redis unreachable from owner-api at the time): it is
	// then the bound on staleness. Longer buys little: a business that is
	// read twice in 5 minutes is already served from the cache, and a
	// refill is one indexed primary-key read of the replica.
	DefaultDetailTTL = 5 * time.Minute
	// DefaultLocalDetailTTL is the default when the cache is in the
	// process (no Redis): owner-api cannot reach it, so only expiry makes
	// owners' writes visible, and the TTL must be short.
	DefaultLocalDetailTTL = 10 * time.Second
	// DefaultNegativeTTL remembers an unknown id for 30 seconds: enough to
	// absorb scans of made-up ids, short for a business created while
	// owner-api could not reach Redis.
	DefaultNegativeTTL = 30 * time.Second
	// DefaultFetchTimeout bounds one database read of a detail.
	DefaultFetchTimeout = 3 * time.Second
)

// DetailKey is the cache key of a business's details.
func DetailKey(prefix string, id int64) string {
	return prefix + ":detail:" + strconv.FormatInt(id, 10)
}

// tombstone is the greatest version: a deleted business never comes back.
const tombstone = math.MaxInt64

// detailJSON is the cached form of a record: its public fields and version.
// The attributes are left out when not set (entries written before they
// existed read as such). Hours are kept raw: those that do not decode here
// (a time zone this process's tz database lacks, though owner-api's had
// it) read as unknown, as the replica's row and the index read them;
// refusing the entry would send every read to the database, never
// repairing it (the fill's version is not newer), for its whole TTL.
type detailJSON struct {
	ID          int64           `json:"id"`
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
	Price       nearby.Price    `json:"price,omitempty"`
	Rating      *int            `json:"rating,omitempty"` // tenths of a star
	ReviewCount uint32          `json:"review_count,omitempty"`
	Hours       json.RawMessage `json:"hours,omitempty"`
	Version     int64           `json:"version"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// encodeDetail returns the versioned value of rec; nil rec is an absent
// business of the given version (0: unknown id, tombstone: deleted).
func encodeDetail(rec *nearby.BusinessRecord, version int64) ([]byte, error) {
	b := strconv.AppendInt(nil, version, 10)
	b = append(b, ':')
	if rec == nil {
		return b, nil
	}
	photos := rec.Photos
	if photos == nil {
		photos = []string{}
	}
	d := detailJSON{
		ID: rec.ID, Name: rec.Name, Category: rec.Category.String(), Lat: rec.Lat, Lon: rec.Lon,
		Address: rec.Address, City: rec.City, State: rec.State, Country: rec.Country, Zip: rec.Zip,
		Description: rec.Description, Photos: photos, Price: rec.Price, ReviewCount: rec.ReviewCount,
		Version: rec.Version, UpdatedAt: rec.UpdatedAt.UTC(),
	}
	if rec.Rating.Rated() {
		tenths := rec.Rating.Tenths()
		d.Rating = &tenths
	}
	if rec.Hours != nil && rec.Hours.Known() {
		var err error
		if d.Hours, err = json.Marshal(rec.Hours); err != nil {
			return nil, err
		}
	}
	data, err := json.Marshal(d)
	return append(b, data...), err
}

// decodeDetail decodes a versioned value: rec is nil for an absent business.
func decodeDetail(val []byte) (rec *nearby.BusinessRecord, err error) {
	v, ok := versionOf(val)
	if !ok {
		return nil, errors.New("cache: detail entry has no version")
	}
	_, data, _ := cutByte(val, ':')
	if len(data) == 0 {
		return nil, nil
	}
	var d detailJSON
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	c, err := nearby.ParseCategory(d.Category)
	if err != nil || d.Version != v || !d.Price.Valid() {
		return nil, errors.New("cache: bad detail entry")
	}
	if d.Photos == nil {
		d.Photos = []string{}
	}
	rec = &nearby.BusinessRecord{
		ID: d.ID, Name: d.Name, Category: c, Lat: d.Lat, Lon: d.Lon,
		Address: d.Address, City: d.City, State: d.State, Country: d.Country, Zip: d.Zip,
		Description: d.Description, Photos: d.Photos, Price: d.Price, ReviewCount: d.ReviewCount,
		Version: d.Version, UpdatedAt: d.UpdatedAt,
	}
	if len(d.Hours) > 0 && string(d.Hours) != "null" {
		if h := new(hours.Schedule); h.UnmarshalJSON(d.Hours) == nil {
			rec.Hours = h
		}
	}
	if d.Rating != nil {
		if *d.Rating < 0 || *d.Rating > nearby.MaxRatingTenths {
			return nil, errors.New("cache: bad detail entry")
		}
		rec.Rating = nearby.RatingOf(*d.Rating)
	}
	return rec, nil
}

func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// DetailsConfig configures Details. Store, Source, Logger and Registerer
// are required.
type DetailsConfig struct {
	Store        Store
	Source       nearby.DetailService // the database (read replica)
	Prefix       string               // key prefix (see DetailKey)
	TTL          time.Duration        // default DefaultDetailTTL
	NegativeTTL  time.Duration        // default DefaultNegativeTTL; at most TTL
	FetchTimeout time.Duration        // default DefaultFetchTimeout
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// Details is a read-through cache of business details over a source, the
// read replica. It implements nearby.DetailService and is safe for
// concurrent use.
type Details struct {
	cfg     DetailsConfig
	flights singleflight.Group

	requests *prometheus.CounterVec
	fills    *prometheus.CounterVec
}

var _ nearby.DetailService = (*Details)(nil)

// NewDetails returns the read-through cache described by cfg.
func NewDetails(cfg DetailsConfig) *Details {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultDetailTTL
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = DefaultNegativeTTL
	}
	// An unknown id is not remembered longer than a record: without
	// Redis, expiry is what makes an owner's new business visible, and the
	// TTL is the bound promised for every owner's write.
	cfg.NegativeTTL = min(cfg.NegativeTTL, cfg.TTL)
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	return &Details{
		cfg:      cfg,
		requests: requests(cfg.Registerer),
		fills: counterVec(cfg.Registerer, prometheus.CounterOpts{
			Name: "nearby_cache_fills_total",
			Help: "Reads of the source on cache misses (one per key at a time), by cache and result (found, not_found, error).",
		}, "cache", "result"),
	}
}

// Detail implements nearby.DetailService: from the cache, else from the
// source, once per key at a time in this process, filling the cache.
func (d *Details) Detail(ctx context.Context, id int64) (*nearby.BusinessRecord, error) {
	if id <= 0 {
		return nil, notFound(id)
	}
	key := DetailKey(d.cfg.Prefix, id)
	val, ok, err := d.cfg.Store.Get(ctx, key)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.requests.WithLabelValues("detail", "error").Inc()
	case !ok:
		d.requests.WithLabelValues("detail", "miss").Inc()
	default:
		rec, err := decodeDetail(val)
		switch {
		case err != nil:
			d.cfg.Logger.Warn("unreadable detail cache entry; reading through", "key", key, "err", err)
			d.requests.WithLabelValues("detail", "error").Inc()
		case rec == nil:
			d.requests.WithLabelValues("detail", "negative_hit").Inc()
			return nil, notFound(id)
		default:
			d.requests.WithLabelValues("detail", "hit").Inc()
			return rec, nil
		}
	}
	ch := d.flights.DoChan(key, func() (any, error) { return d.fill(ctx, key, id) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*nearby.BusinessRecord), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill reads the source and stores what it found. It runs once for all
// the requests waiting on the key, so it does not stop when the first of
// them gives up, only at its own timeout. It runs in a goroutine of its
// own (singleflight.DoChan), where no HTTP server recovers a panic: one
// in the source would end the process, so it is recovered here and is
// the waiting requests' internal error (the key is not filled).
func (d *Details) fill(ctx context.Context, key string, id int64) (_ *nearby.BusinessRecord, err error) {
	defer func() {
		if p := recover(); p != nil {
			d.fills.WithLabelValues("detail", "error").Inc()
			d.cfg.Logger.Error("panic reading a detail", "key", key, "panic", p, "stack", string(debug.Stack()))
			err = nearby.Errorf(nearby.EINTERNAL, "reading business %d: panic: %v", id, p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.FetchTimeout)
	defer cancel()
	rec, err := d.cfg.Source.Detail(ctx, id)
	var val []byte
	var ttl time.Duration
	switch code := nearby.ErrorCode(err); {
	case err == nil:
		d.fills.WithLabelValues("detail", "found").Inc()
		val, err = encodeDetail(rec, rec.Version)
		if err != nil {
			return nil, err
		}
		ttl = jitter(d.cfg.TTL, rand.Float64())
	case code == nearby.ENOTFOUND:
		d.fills.WithLabelValues("detail", "not_found").Inc()
		val, _ = encodeDetail(nil, 0)
		ttl = d.cfg.NegativeTTL
	default:
		d.fills.WithLabelValues("detail", "error").Inc()
		return nil, err
	}
	d.cfg.Store.SetNewer(ctx, key, val, ttl) // a failure is counted by the store; the answer stands
	if rec == nil {
		return nil, notFound(id)
	}
	return rec, nil
}

func notFound(id int64) error { return nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id) }
