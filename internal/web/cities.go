package web

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/nearby/nearby/internal/dataset"
)

// pickerCities is how many of the most populous embedded cities the city
// picker offers.
const pickerCities = 5000

// city is a picker entry with its name folded for matching.
type city struct {
	dataset.City
	key string // folded name: see fold
}

// loadCities builds the picker's table once, on first use: the most
// populous cities first, ties by name.
var loadCities = sync.OnceValues(func() ([]city, error) {
	all, err := dataset.Cities()
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b dataset.City) int {
		if c := cmp.Compare(b.Population, a.Population); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	all = all[:min(len(all), pickerCities)]
	cs := make([]city, len(all))
	for i, c := range all {
		cs[i] = city{City: c, key: fold(c.Name)}
	}
	return cs, nil
})

// fold lower-cases s and strips its diacritics, so "sao paulo" finds
// "São Paulo" and "mahoba" finds "Mahobā".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// matchCities returns up to limit cities whose name starts with q, then
// those with a later word that does ("york" finds "New York City"), each
// group most populous first. An empty q matches every city.
func matchCities(cs []city, q string, limit int) []city {
	q = fold(strings.Join(strings.Fields(q), " "))
	var out []city
	for _, c := range cs {
		if len(out) == limit {
			return out
		}
		if strings.HasPrefix(c.key, q) {
			out = append(out, c)
		}
	}
	for _, c := range cs {
		if len(out) == limit {
			return out
		}
		if !strings.HasPrefix(c.key, q) && wordPrefix(c.key, q) {
			out = append(out, c)
		}
	}
	return out
}

// wordPrefix reports whether a word of key after the first starts with q.
func wordPrefix(key, q string) bool {
	for i, r := range key {
		if (r == ' ' || r == '-' || r == '\'') && strings.HasPrefix(key[i+1:], q) {
			return true
		}
	}
	return false
}
