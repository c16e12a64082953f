package postgres

import (
	"encoding/json"
	"math"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
)

// The attribute columns are stored as the migration 00002 describes: price
// and rating (tenths of a star) are smallint, NULL when not set;
// review_count is an integer; hours is the JSON form of package hours,
// NULL when unknown.

// priceParam is a price as a query parameter.
func priceParam(p nearby.Price) any {
	if p == 0 {
		return nil
	}
	return int16(p)
}

// ratingParam is a rating as a query parameter.
func ratingParam(r nearby.Rating) any {
	if !r.Rated() {
		return nil
	}
	return int16(r.Tenths())
}

// hoursParam is opening hours as a query parameter, encoded by pgx with
// the schedule's MarshalJSON.
func hoursParam(s *hours.Schedule) any {
	if s == nil || !s.Known() {
		return nil
	}
	return s
}

// hoursJSON encodes opening hours for COPY once per distinct schedule:
// bulk loads share schedules between many businesses.
type hoursJSON map[*hours.Schedule][]byte

// param returns s as a COPY value: its JSON, or nil (NULL) for unknown
// hours.
func (m hoursJSON) param(s *hours.Schedule) (any, error) {
	if s == nil || !s.Known() {
		return nil, nil
	}
	b, ok := m[s]
	if !ok {
		var err error
		if b, err = json.Marshal(s); err != nil {
			return nil, err
		}
		m[s] = b
	}
	return b, nil
}

// The conversions from stored values pass out-of-range values (possible
// only if the schema's constraints were dropped) on as values that are not
// Valid, as CopyLive does for categories.

// priceOf converts a stored price.
func priceOf(v pgtype.Int2) nearby.Price {
	switch {
	case !v.Valid:
		return 0
	case v.Int16 < 1 || v.Int16 > int16(nearby.MaxPrice):
		return math.MaxUint8
	}
	return nearby.Price(v.Int16)
}

// ratingOf converts a stored rating in tenths of a star.
func ratingOf(v pgtype.Int2) nearby.Rating {
	switch {
	case !v.Valid:
		return nearby.Unrated
	case v.Int16 < 0 || v.Int16 > nearby.MaxRatingTenths:
		return math.MaxUint8
	}
	return nearby.RatingOf(int(v.Int16))
}

// reviewsOf converts a stored review count (a negative one to 0).
func reviewsOf(v int32) uint32 { return uint32(max(v, 0)) }

// scheduleCache decodes stored opening hours for the read path, once per
// distinct JSON text, so that decoding millions of rows parses each
// schedule once and every business with the same hours shares one
// *hours.Schedule (equal schedules spelled differently share one too), which
// lets a consumer table them by pointer. Hours that do not decode (a time
// zone missing from this process's tz database) come out unknown, rather
// than failing a whole stream. It holds every distinct schedule it has
// seen: make one per stream or page. Not safe for concurrent use.
type scheduleCache struct {
	byText map[string]*hours.Schedule
	byKey  map[string]*hours.Schedule
}

func newScheduleCache() *scheduleCache {
	return &scheduleCache{byText: map[string]*hours.Schedule{}, byKey: map[string]*hours.Schedule{}}
}

// get returns the schedule of the JSON text, nil for NULL.
func (c *scheduleCache) get(text []byte) *hours.Schedule {
	if text == nil {
		return nil
	}
	if s, ok := c.byText[string(text)]; ok { // no allocation
		return s
	}
	s := new(hours.Schedule)
	if err := s.UnmarshalJSON(text); err != nil || !s.Known() {
		s = nil
	} else if key := s.Key(); c.byKey[key] != nil {
		s = c.byKey[key]
	} else {
		c.byKey[key] = s
	}
	c.byText[string(text)] = s
	return s
}
