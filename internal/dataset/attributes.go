package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
)

// The shape of the attributes. Ratings are Normal(ratingMean, ratingSD)
// stars clipped to [1, 5], except for the unratedShare of businesses, which
// have no rating and no reviews. Rated businesses have a log-normal number
// of reviews, median reviewsMedian, with a heavy tail (sigma reviewsSigma:
// one in a hundred has about 20 times the median). Prices follow
// priceWeights, opening hours hoursWeights.
const (
	unratedShare  = 0.08
	ratingMean    = 4.1
	ratingSD      = 0.5
	reviewsMedian = 40
	reviewsSigma  = 1.3
)

// priceWeights are the relative frequencies of no price and of the price
// levels 1 to 4, per category: gas stations and laundries cheap, hotels and
// restaurants spread over all levels, banks and dentists mostly without one.
// About 10% of businesses have no price.
var priceWeights = [...][5]float64{
	nearby.Restaurant: {5, 25, 40, 22, 8},
	nearby.Cafe:       {5, 45, 42, 7, 1},
	nearby.Bar:        {5, 25, 45, 20, 5},
	nearby.Bakery:     {5, 50, 38, 7, 0},
	nearby.Grocery:    {5, 40, 42, 11, 2},
	nearby.Pharmacy:   {8, 35, 45, 12, 0},
	nearby.Hotel:      {5, 15, 35, 30, 15},
	nearby.Gym:        {6, 30, 42, 18, 4},
	nearby.Bank:       {60, 10, 20, 8, 2},
	nearby.HairSalon:  {5, 30, 45, 17, 3},
	nearby.Bookstore:  {6, 30, 50, 13, 1},
	nearby.Florist:    {6, 25, 50, 17, 2},
	nearby.Hardware:   {6, 30, 50, 13, 1},
	nearby.PetStore:   {6, 30, 50, 13, 1},
	nearby.Dentist:    {50, 10, 25, 12, 3},
	nearby.Laundry:    {5, 65, 30, 0, 0},
	nearby.GasStation: {5, 60, 35, 0, 0},
	nearby.Museum:     {30, 30, 30, 8, 2},
	nearby.Cinema:     {6, 25, 55, 13, 1},
	nearby.Clothing:   {5, 25, 40, 22, 8},
}

// hoursTemplates are the weekly opening hours businesses are given, in
// their city's time zone: "days open-close[,open-close]" rules joined by
// "; ", days a day or a range mon..sun, sun-thu wrapping over the week end.
// A close at or before the open is on the next day, as in package hours.
var hoursTemplates = [...]string{
	"daily 07:00-19:00",                                     // 0 café
	"mon-fri 07:00-18:00; sat-sun 08:00-16:00",              // 1 café, weekend hours
	"daily 17:00-02:00",                                     // 2 bar, past midnight
	"sun-thu 16:00-00:00; fri-sat 16:00-03:00",              // 3 bar, late on weekends
	"tue-sun 11:30-14:30,18:00-22:30",                       // 4 restaurant, lunch and dinner, closed Monday
	"daily 11:00-22:00",                                     // 5 restaurant, all day
	"tue-sun 06:30-19:00",                                   // 6 bakery, closed Monday
	"mon-sat 08:00-21:00; sun 09:00-18:00",                  // 7 grocery
	"daily 07:00-23:00",                                     // 8 supermarket
	"mon-fri 08:30-19:30; sat 09:00-13:00",                  // 9 pharmacy, closed Sunday
	"daily 00:00-24:00",                                     // 10 open 24 hours
	"mon-sat 10:00-19:00",                                   // 11 shop, closed Sunday
	"mon-sat 10:00-20:00; sun 11:00-18:00",                  // 12 shop, open Sunday
	"tue-sat 09:00-18:00",                                   // 13 hair salon
	"mon-fri 09:00-17:00",                                   // 14 bank, office
	"mon-fri 09:00-17:00; sat 09:00-12:00",                  // 15 bank, Saturday mornings
	"mon-fri 08:00-12:00,13:00-17:00",                       // 16 dentist, lunch break
	"mon-fri 06:00-22:00; sat-sun 08:00-20:00",              // 17 gym
	"tue-sun 10:00-18:00",                                   // 18 museum, closed Monday
	"daily 12:00-00:00",                                     // 19 cinema
	"daily 07:00-22:00",                                     // 20 laundry
	"daily 06:00-22:00",                                     // 21 gas station
	"mon-thu 10:00-19:00; fri 10:00-21:00; sat 10:00-18:00", // 22 shop, late Friday
}

// hoursUnknown is the template index of "hours unknown", and hoursChoices
// the number of choices of hours.
const (
	hoursUnknown = len(hoursTemplates)
	hoursChoices = hoursUnknown + 1
)

// hoursWeights are, per category, the weights of the hours templates, the
// last (hoursUnknown) being unknown hours: about 10% everywhere.
var hoursWeights = [...]map[int]float64{
	nearby.Restaurant: {4: 50, 5: 40, hoursUnknown: 10},
	nearby.Cafe:       {0: 60, 1: 30, hoursUnknown: 10},
	nearby.Bar:        {2: 55, 3: 35, hoursUnknown: 10},
	nearby.Bakery:     {6: 90, hoursUnknown: 10},
	nearby.Grocery:    {7: 50, 8: 40, hoursUnknown: 10},
	nearby.Pharmacy:   {9: 75, 10: 15, hoursUnknown: 10},
	nearby.Hotel:      {10: 90, hoursUnknown: 10},
	nearby.Gym:        {17: 70, 10: 20, hoursUnknown: 10},
	nearby.Bank:       {14: 60, 15: 30, hoursUnknown: 10},
	nearby.HairSalon:  {13: 90, hoursUnknown: 10},
	nearby.Bookstore:  {11: 45, 12: 35, 22: 10, hoursUnknown: 10},
	nearby.Florist:    {11: 45, 12: 35, 22: 10, hoursUnknown: 10},
	nearby.Hardware:   {11: 45, 12: 35, 22: 10, hoursUnknown: 10},
	nearby.PetStore:   {11: 45, 12: 35, 22: 10, hoursUnknown: 10},
	nearby.Dentist:    {16: 90, hoursUnknown: 10},
	nearby.Laundry:    {20: 70, 10: 20, hoursUnknown: 10},
	nearby.GasStation: {10: 55, 21: 35, hoursUnknown: 10},
	nearby.Museum:     {18: 90, hoursUnknown: 10},
	nearby.Cinema:     {19: 90, hoursUnknown: 10},
	nearby.Clothing:   {11: 45, 12: 35, 22: 10, hoursUnknown: 10},
}

// attributes are the samplers and schedules for drawing attributes, part of
// the world: built once, then read-only.
type attributes struct {
	// priceHours[c] draws the price and the hours of a business of category
	// c at once, independently: price×hoursChoices + template, where price
	// 0 is none and template hoursUnknown is unknown hours.
	priceHours [len(priceWeights)]alias
	// schedules[zone][template] is the schedule of a template in a zone,
	// built once and shared by every business that has it.
	schedules [][hoursUnknown]*hours.Schedule
	zones     []string // by index, as site.zone
}

// newAttributes prepares the samplers and the schedules of every template in
// every zone of zones.
func newAttributes(zones []string) (*attributes, error) {
	a := &attributes{zones: zones, schedules: make([][hoursUnknown]*hours.Schedule, len(zones))}
	for c := range priceWeights {
		var hw [hoursChoices]float64
		for t, w := range hoursWeights[c] {
			hw[t] = w
		}
		weights := make([]float64, 0, len(priceWeights[c])*hoursChoices)
		for _, pw := range priceWeights[c] {
			for _, w := range hw {
				weights = append(weights, pw*w)
			}
		}
		a.priceHours[c] = newAlias(weights)
	}
	var weeks [hoursUnknown][7][]hours.Span
	for t, tmpl := range hoursTemplates {
		w, err := parseTemplate(tmpl)
		if err != nil {
			return nil, fmt.Errorf("hours template %q: %w", tmpl, err)
		}
		weeks[t] = w
	}
	for z, zone := range zones {
		for t := range weeks {
			s, err := hours.New(zone, weeks[t])
			if err != nil {
				return nil, fmt.Errorf("hours template %q in %s: %w", hoursTemplates[t], zone, err)
			}
			a.schedules[z][t] = &s
		}
	}
	return a, nil
}

// draw gives b, of a place in the zone with index zone, its attributes.
func (a *attributes) draw(r *rand.Rand, b *nearby.Business, zone uint16) {
	ph := a.priceHours[b.Category].draw(r)
	b.Price = nearby.Price(ph / hoursChoices)
	if t := ph % hoursChoices; t != hoursUnknown {
		b.Hours = a.schedules[zone][t]
	}
	if r.Float64() >= unratedShare {
		stars := min(max(ratingMean+ratingSD*r.NormFloat64(), 1), 5)
		b.Rating = nearby.RatingOf(int(math.Round(stars * 10)))
		reviews := math.Round(reviewsMedian * math.Exp(reviewsSigma*r.NormFloat64()))
		b.ReviewCount = uint32(min(max(reviews, 1), nearby.MaxReviewCount))
	}
}

// parseTemplate parses an hours template (see hoursTemplates).
func parseTemplate(tmpl string) (week [7][]hours.Span, err error) {
	for rule := range strings.SplitSeq(tmpl, "; ") {
		days, spans, ok := strings.Cut(rule, " ")
		if !ok {
			return week, fmt.Errorf("rule %q: want days and spans", rule)
		}
		first, last, err := parseDays(days)
		if err != nil {
			return week, err
		}
		var list []hours.Span
		for sp := range strings.SplitSeq(spans, ",") {
			open, close, ok := strings.Cut(sp, "-")
			o, err1 := parseClock(open)
			c, err2 := parseClock(close)
			if !ok || err1 != nil || err2 != nil || o == 24*60 {
				return week, fmt.Errorf("span %q: want HH:MM-HH:MM", sp)
			}
			if c <= o {
				c += 24 * 60
			}
			list = append(list, hours.Span{Open: o, Close: c})
		}
		for d := first; ; d = (d + 1) % 7 {
			week[d] = list
			if d == last {
				break
			}
		}
	}
	return week, nil
}

// dayNames are the days of templates, indexed by time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseDays parses "daily", a day ("sat") or a range ("mon-fri", "sun-thu").
func parseDays(s string) (first, last time.Weekday, err error) {
	if s == "daily" {
		return time.Monday, time.Sunday, nil
	}
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		to = from
	}
	day := func(name string) (time.Weekday, bool) {
		for d, n := range dayNames {
			if n == name {
				return time.Weekday(d), true
			}
		}
		return 0, false
	}
	first, ok1 := day(from)
	last, ok2 := day(to)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("days %q: want daily, a day or a range such as mon-fri", s)
	}
	return first, last, nil
}

// parseClock parses "HH:MM", 00:00 to 24:00, as minutes since midnight.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	return t.Hour()*60 + t.Minute(), err
}
