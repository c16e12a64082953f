package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
)

// The shape of the data. A place is drawn around a city picked in proportion
// to its population: usually in the city's core, at a distance following a
// Gamma(2) law of scale coreM + sqrt(population) metres, whose surface
// density falls off as exp(-r/scale) from a dense downtown; otherwise
// (tailShare) in the countryside, at a Lomax (Pareto II) distance with shape
// 1.5 and scale tailM + the core scale, so a few places are tens of km out.
// Nothing is drawn further than maxM from its city, so oceans stay empty.
const (
	coreM     = 100     // core scale of the smallest town, metres
	tailShare = 0.07    // share of places in the countryside tail
	tailM     = 2000    // extra scale of the tail, metres
	maxM      = 300_000 // no place is further from its city, metres
	minCosLat = 0.05    // floor of cos(lat) when converting metres to degrees of longitude

	// dupShare is the share of businesses that take the exact location of a
	// recent business (malls, office towers).
	dupShare = 0.01
	// recentLen is how many recent locations duplicates are drawn from.
	recentLen = 1024
)

// metresPerDegree is the length of one degree of latitude (and of longitude
// at the equator) on the sphere of geo.Distance.
const metresPerDegree = geo.EarthRadiusM * math.Pi / 180

// Stream identifiers for the PCG generators, so that businesses and queries
// made with the same seed are unrelated. Attributes have a stream of their
// own, so that adding them left the places, categories and names of a seed
// as they were.
const (
	businessStream  = 0x6e656172_62697a00 // "nearbiz"
	queryStream     = 0x6e656172_71727900 // "nearqry"
	attributeStream = 0x6e656172_61747400 // "nearatt"
)

// site is a city prepared for drawing places around it.
type site struct {
	lat, lon float64 // degrees
	degLon   float64 // degrees of longitude per metre east, from cos(lat) floored at minCosLat
	scaleM   float64 // core distance scale, metres
	name     string  // the city's name, here to share its cache line
	zone     uint16  // index of the city's time zone in attributes.zones
}

// world holds everything drawing businesses needs; built when needed
// (see worlds), then read-only.
type world struct {
	sites []site
	pick  alias // city index, weighted by population
	cats  alias // category, weighted by categoryWeights
	attrs *attributes
}

// newSite prepares city c.
func newSite(c City) site {
	return site{
		lat:    c.Lat,
		lon:    c.Lon,
		degLon: 1 / (metresPerDegree * max(math.Cos(c.Lat*math.Pi/180), minCosLat)),
		scaleM: coreM + math.Sqrt(c.weight()),
		name:   strings.Join(strings.Fields(c.Name), " "), // a few GeoNames names have double spaces
	}
}

// worlds is the world, built from the embedded cities while in use: every
// generator alive shares one.
var worlds = shared[world]{build: buildWorld}

func buildWorld() (*world, error) {
	p, err := cities.get()
	if err != nil {
		return nil, err
	}
	cs := *p
	w := &world{sites: make([]site, len(cs))}
	weights := make([]float64, len(cs))
	var zones []string
	zoneIndex := map[string]uint16{}
	for i, c := range cs {
		weights[i] = c.weight()
		w.sites[i] = newSite(c)
		z := zoneOf(c)
		if _, ok := zoneIndex[z]; !ok {
			zoneIndex[z] = uint16(len(zones))
			zones = append(zones, z)
		}
		w.sites[i].zone = zoneIndex[z]
	}
	w.pick = newAlias(weights)
	w.cats = newAlias(categoryWeights[:])
	w.attrs, err = newAttributes(zones)
	return w, err
}

// mustWorld returns the world. The embedded city table is fixed at build
// time and checked by the tests, so failing to parse it is a broken build,
// not a condition callers could handle.
func mustWorld() *world {
	w, err := worlds.get()
	if err != nil {
		panic(fmt.Sprintf("dataset: %v", err))
	}
	return w
}

// place draws a location around a population-weighted city and returns it
// (degrees, rounded to 1e-7) with the city's index.
func (w *world) place(r *rand.Rand) (lat, lon float64, city int) {
	city = w.pick.draw(r)
	s := &w.sites[city]
	var d float64
	if r.Float64() < tailShare {
		for d = math.Inf(1); d > maxM; {
			u := 1 - r.Float64() // (0, 1]
			d = (tailM + s.scaleM) * (math.Pow(u, -1/1.5) - 1)
		}
	} else {
		for d = math.Inf(1); d > maxM; {
			d = -s.scaleM * math.Log((1-r.Float64())*(1-r.Float64()))
		}
	}
	sin, cos := math.Sincos(2 * math.Pi * r.Float64())
	// The conversions forbid fused multiply-adds, which some CPUs would use
	// and others not, so the output depends less on the architecture.
	lat = s.lat + float64(d*cos/metresPerDegree)
	lon = s.lon + float64(d*sin*s.degLon)
	// Fold a point pushed over a pole back onto the far meridian.
	if lat > 90 {
		lat, lon = 180-lat, lon+180
	} else if lat < -90 {
		lat, lon = -180-lat, lon+180
	}
	for lon > 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return roundE7(lat), roundE7(lon), city
}

// roundE7 rounds degrees to 1e-7, the resolution of the index. Since ±90 and
// ±180 are multiples of 1e-7, rounding keeps a valid coordinate valid.
func roundE7(x float64) float64 { return math.Round(x*1e7) / 1e7 }

// Generator streams businesses, so millions can be written out without being
// held in memory. It is not safe for concurrent use.
type Generator struct {
	w      *world
	r      *rand.Rand // places, categories and names
	attr   *rand.Rand // attributes
	id     int64
	recent [recentLen]struct {
		lat, lon float64
		city     int32
	}
}

// NewGenerator returns a generator of the business sequence for seed: the
// same seed always gives the same businesses, in the same order.
func NewGenerator(seed uint64) *Generator {
	return &Generator{w: mustWorld(), r: rand.New(rand.NewPCG(seed, businessStream)),
		attr: rand.New(rand.NewPCG(seed, attributeStream))}
}

// Next returns the next business. IDs count up from 1.
func (g *Generator) Next() nearby.Business {
	b, _ := g.next()
	return b
}

// next returns the next business and the index of the city it was placed
// around.
func (g *Generator) next() (nearby.Business, int) {
	g.id++
	var lat, lon float64
	var city int
	if filled := min(g.id-1, recentLen); filled > 0 && g.r.Float64() < dupShare {
		p := &g.recent[g.r.IntN(int(filled))]
		lat, lon, city = p.lat, p.lon, int(p.city)
	} else {
		lat, lon, city = g.w.place(g.r)
	}
	p := &g.recent[(g.id-1)%recentLen]
	p.lat, p.lon, p.city = lat, lon, int32(city)
	c := nearby.Category(g.w.cats.draw(g.r))
	b := nearby.Business{
		ID:       g.id,
		Name:     name(g.r, c, g.w.sites[city].name),
		Category: c,
		Lat:      lat,
		Lon:      lon,
	}
	g.w.attrs.draw(g.attr, &b, g.w.sites[city].zone)
	return b, city
}

// Generate returns n businesses (none if n <= 0) for seed, with IDs 1..n:
// the first n that NewGenerator(seed) would give. It is safe for concurrent
// use.
func Generate(n int, seed uint64) []nearby.Business {
	g := NewGenerator(seed)
	bs := make([]nearby.Business, max(n, 0))
	for i := range bs {
		bs[i] = g.Next()
	}
	return bs
}
