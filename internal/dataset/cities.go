package dataset

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/nearby/nearby/geo"
)

//go:generate go run ./internal/mkcities -in ../../../shared/data/cities.csv.gz -out cities.csv.gz

// citiesGz is the reduced GeoNames city table made by internal/mkcities.
//
//go:embed cities.csv.gz
var citiesGz []byte

// City is a populated place from GeoNames.
type City struct {
	Name       string  // as GeoNames spells it, UTF-8
	Country    string  // ISO 3166-1 alpha-2 code, e.g. "JP"
	Lat, Lon   float64 // degrees, rounded to 1e-4 (about 11 m)
	Population int     // inhabitants; 0 would mean unknown (the embedded table has none)
}

// weight is the city's share in population-weighted draws: its population,
// or 1000 (the cities1000 threshold) when unknown.
func (c City) weight() float64 {
	if c.Population <= 0 {
		return 1000
	}
	return float64(c.Population)
}

// cities is the embedded table, parsed while in use.
var cities = shared[[]City]{build: func() (*[]City, error) {
	cs, err := parseCities(bytes.NewReader(citiesGz))
	return &cs, err
}}

// Cities returns the embedded cities (about 82,000 places of 2,000 people
// or more) in GeoNames order, which groups them by country. The table is
// parsed when needed; each call returns a fresh copy the caller may modify.
func Cities() ([]City, error) {
	cs, err := cities.get()
	if err != nil {
		return nil, err
	}
	return slices.Clone(*cs), nil
}

// parseCities reads a gzip-compressed name,country,lat,lon,population CSV.
func parseCities(r io.Reader) ([]City, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("embedded cities: %w", err)
	}
	cr := csv.NewReader(zr)
	cr.FieldsPerRecord = 5
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return nil, fmt.Errorf("embedded cities: header: %w", err)
	}
	cs := make([]City, 0, 82_100) // the embedded table has 82,068 rows
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("embedded cities: %w", err)
		}
		line, _ := cr.FieldPos(0)
		lat, err1 := strconv.ParseFloat(rec[2], 64)
		lon, err2 := strconv.ParseFloat(rec[3], 64)
		pop, err3 := strconv.Atoi(rec[4])
		if err1 != nil || err2 != nil || err3 != nil || !geo.Valid(lat, lon) || pop < 0 {
			return nil, fmt.Errorf("embedded cities: line %d: bad lat %q, lon %q or population %q", line, rec[2], rec[3], rec[4])
		}
		cs = append(cs, City{Name: rec[0], Country: rec[1], Lat: lat, Lon: lon, Population: pop})
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("embedded cities: no rows")
	}
	return slices.Clip(cs), nil
}
