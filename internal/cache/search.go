package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
)

// DefaultSearchTTL keeps a search answer for a minute. Answers never go
// stale (keys carry the index state: its version and live changes); the
// TTL only frees the memory of answers to old states and of one-off
// queries.
const DefaultSearchTTL = time.Minute

// maxPendingSets bounds the cache writes in flight: past it, answers are
// not cached rather than queued.
const maxPendingSets = 64

// engine is what Searcher wraps: the search service and, for clusters, the
// shard service, which it passes through.
type engine interface {
	nearby.SearchService
	nearby.ShardService
}

// SearcherConfig configures a Searcher. Store, Index and Registerer are
// required.
type SearcherConfig struct {
	Store  Store
	Prefix string
	TTL    time.Duration // default DefaultSearchTTL
	// Index returns the state of the index being served, which names its
	// answers in keys and changes with every new index and every batch of
	// live changes (search.Index.State), and the index version its pages
	// carry (search.Index.Version); "" before one is loaded: nothing is
	// cached then.
	Index      func() (state, version string)
	Registerer prometheus.Registerer
}

// Searcher is a search service that caches the answers of the one it
// wraps. Every other method passes through. It is safe for concurrent use.
type Searcher struct {
	engine
	cfg      SearcherConfig
	requests *prometheus.CounterVec
	pending  chan struct{}
}

var (
	_ nearby.SearchService = (*Searcher)(nil)
	_ nearby.ShardService  = (*Searcher)(nil)
)

// NewSearcher wraps inner.
func NewSearcher(inner engine, cfg SearcherConfig) *Searcher {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultSearchTTL
	}
	return &Searcher{engine: inner, cfg: cfg, requests: requests(cfg.Registerer), pending: make(chan struct{}, maxPendingSets)}
}

// Nearby implements nearby.SearchService: a cached answer if there is one
// for the index being served, else the wrapped service's, cached after it
// is returned.
func (s *Searcher) Nearby(ctx context.Context, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
	state, version := s.cfg.Index()
	// Filtered, rating-sorted and counted searches are not cached: the
	// plain nearby search is the one worth sharing between clients.
	if state == "" || q.Validate() != nil || q.Filters != (nearby.Filters{}) || q.Sort != nearby.SortDistance || q.Total {
		return s.engine.Nearby(ctx, q, after)
	}
	key := SearchKey(s.cfg.Prefix, state, q, after)
	val, ok, err := s.cfg.Store.Get(ctx, key)
	switch {
	case err != nil:
		s.requests.WithLabelValues("search", "error").Inc()
	case !ok:
		s.requests.WithLabelValues("search", "miss").Inc()
	default:
		page, err := decodePage(val)
		if err == nil {
			s.requests.WithLabelValues("search", "hit").Inc()
			return page, nil
		}
		s.requests.WithLabelValues("search", "error").Inc()
	}
	page, err := s.engine.Nearby(ctx, q, after)
	// Only an answer wholly from the index the key names is cached: not a
	// partial one, nor one with remote regions of other versions, nor one
	// that may come from an index swapped in since the key was made.
	if err != nil || page.Partial || page.IndexVersion != version {
		return page, err
	}
	if now, _ := s.cfg.Index(); now != state {
		return page, nil
	}
	select {
	case s.pending <- struct{}{}:
		val := appendPage(nil, page)
		go func() {
			defer func() { <-s.pending }()
			s.cfg.Store.Set(context.Background(), key, val, s.cfg.TTL)
		}()
	default:
	}
	return page, nil
}

// SearchKey is the cache key of a search on an index state: the exact
// bits of the query's floats (-0 taken as 0), its limit, categories and
// cursor.
func SearchKey(prefix, state string, q nearby.SearchQuery, after *nearby.Cursor) string {
	b := make([]byte, 0, len(prefix)+len(state)+96)
	b = append(b, prefix...)
	b = append(b, ":search:"...)
	b = append(b, state...)
	for _, f := range []float64{q.Lat, q.Lon, q.RadiusM} {
		if f == 0 {
			f = 0 // -0 and 0 ask the same question
		}
		b = append(b, ':')
		b = strconv.AppendUint(b, math.Float64bits(f), 16)
	}
	b = append(b, ":l"...)
	b = strconv.AppendInt(b, int64(q.Limit), 10)
	b = append(b, ":c"...)
	b = strconv.AppendUint(b, uint64(q.Categories), 16)
	if after != nil {
		b = append(b, ":a"...)
		b = append(b, after.IndexVersion...)
		b = append(b, ':')
		b = strconv.AppendUint(b, math.Float64bits(after.DistanceM), 16)
		b = append(b, ':')
		b = strconv.AppendInt(b, after.ID, 10)
	}
	return string(b)
}

// A page is cached in a compact binary form (decoding JSON would cost more
// than the search):
//
//	format byte (1), version string, flags byte (1 partial, 2 next),
//	missing count and strings, [next: version string, distance bits, id],
//	result count, results: id, name string, category byte, lat, lon and
//	distance bits
//
// Strings are a uvarint length and bytes, ids varints, bits 8 bytes.
const pageFormat = 2

// appendPage encodes a page for the cache. Opening hours are left out:
// search answers do not show them (details do).
func appendPage(b []byte, p *nearby.SearchPage) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, pageFormat)
	str(p.IndexVersion)
	var flags byte
	if p.Partial {
		flags |= 1
	}
	if p.Next != nil {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(p.Missing)))
	for _, m := range p.Missing {
		str(m)
	}
	if p.Next != nil {
		str(p.Next.IndexVersion)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Next.DistanceM))
		b = binary.AppendVarint(b, p.Next.ID)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Results)))
	for _, r := range p.Results {
		b = binary.AppendVarint(b, r.ID)
		str(r.Name)
		b = append(b, byte(r.Category))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Lat))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.Lon))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.DistanceM))
		b = append(b, byte(r.Price), byte(r.Rating))
		b = binary.AppendUvarint(b, uint64(r.ReviewCount))
	}
	return b
}

var errPage = errors.New("cache: malformed search page")

// pageReader decodes untrusted bytes: every read is bounds-checked and
// counts are capped by the bytes left before anything is allocated.
type pageReader struct {
	b   []byte
	err error
}

func (r *pageReader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errPage
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *pageReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if r.err != nil || n <= 0 {
		r.err = errPage
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *pageReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if r.err != nil || n <= 0 {
		r.err = errPage
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *pageReader) float() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errPage
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return f
}

func (r *pageReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errPage
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// count reads a count of items of at least minBytes each.
func (r *pageReader) count(minBytes int) int {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)/minBytes) {
		r.err = errPage
		return 0
	}
	return int(n)
}

func decodePage(b []byte) (*nearby.SearchPage, error) {
	r := &pageReader{b: b}
	if r.byte() != pageFormat {
		return nil, errPage
	}
	p := &nearby.SearchPage{IndexVersion: r.string()}
	flags := r.byte()
	p.Partial = flags&1 != 0
	if n := r.count(1); n > 0 {
		p.Missing = make([]string, n)
		for i := range p.Missing {
			p.Missing[i] = r.string()
		}
	}
	if flags&2 != 0 {
		p.Next = &nearby.Cursor{IndexVersion: r.string(), DistanceM: r.float(), ID: r.varint()}
	}
	p.Results = make([]nearby.SearchResult, r.count(27))
	for i := range p.Results {
		res := &p.Results[i]
		res.ID = r.varint()
		res.Name = r.string()
		res.Category = nearby.Category(r.byte())
		res.Lat, res.Lon, res.DistanceM = r.float(), r.float(), r.float()
		res.Price, res.Rating = nearby.Price(r.byte()), nearby.Rating(r.byte())
		res.ReviewCount = uint32(r.uvarint())
		if !res.Category.Valid() || !res.Price.Valid() || !res.Rating.Valid() {
			return nil, errPage
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errPage
	}
	return p, nil
}
