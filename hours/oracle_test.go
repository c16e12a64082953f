package hours

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// oracleZones have offsets that change by an hour, half an hour (Lord Howe),
// at midnight (Santiago), not at all (Kolkata, Apia in 2026) or never (UTC).
var oracleZones = []string{
	"America/New_York", "Europe/London", "Europe/Paris", "Australia/Lord_Howe",
	"Pacific/Apia", "Asia/Kolkata", "America/Santiago", "UTC",
}

// oracleOpenAt answers OpenAt the slow way, without weekday or minute
// arithmetic: it finds the wall time of t as a naive time (a time.Time in
// UTC that shows the local wall clock), then, for the local calendar date
// and the two dates before it, builds each span's start and end as naive
// wall times with time.Date and compares.
func oracleOpenAt(s *Schedule, t time.Time) bool {
	if !s.Known() {
		return false
	}
	_, offset := t.In(s.loc).Zone()
	wall := t.UTC().Add(time.Duration(offset) * time.Second)
	y, m, d := wall.Date()
	for back := 2; back >= 0; back-- {
		date := time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
		for _, sp := range s.Spans(date.Weekday()) {
			start := time.Date(date.Year(), date.Month(), date.Day(), 0, sp.Open, 0, 0, time.UTC)
			end := time.Date(date.Year(), date.Month(), date.Day(), 0, sp.Close, 0, 0, time.UTC)
			if !wall.Before(start) && wall.Before(end) {
				return true
			}
		}
	}
	return false
}

// interesting are wall-clock minutes near DST shifts and midnight.
var interesting = []int{0, 1, 29, 30, 31, 59, 60, 61, 89, 90, 119, 120, 121, 149, 150, 151, 179, 180, 181, 1379, 1380, 1410, 1439, 1440}

func randMinute(r *rand.Rand) int {
	if r.IntN(2) == 0 {
		return interesting[r.IntN(len(interesting))]
	}
	return r.IntN(1441)
}

// randWeek returns a valid week of spans, biased to boundaries where clocks
// change and to spans past midnight.
func randWeek(r *rand.Rand) [7][]Span {
	var week [7][]Span
	for d := range week {
		var points []int
		for range 2 * r.IntN(MaxSpans+1) {
			points = append(points, randMinute(r))
		}
		slices.Sort(points)
		points = slices.Compact(points)
		for i := 0; i+1 < len(points); i += 2 {
			week[d] = append(week[d], Span{points[i], points[i+1]})
		}
		switch r.IntN(8) {
		case 0:
			week[d] = []Span{{0, 1440}}
		case 1, 2, 3:
			if n := len(week[d]); n > 0 && week[d][n-1].Close == 1440 {
				last := &week[d][n-1]
				last.Close += randMinute(r) % (last.Open + 1)
			} else if n == 0 || n < MaxSpans && week[d][n-1].Close < 1439 {
				open := 1439
				if n > 0 {
					open -= r.IntN(1439 - week[d][n-1].Close)
				}
				week[d] = append(week[d], Span{open, 1440 + randMinute(r)%(open+1)})
			}
		}
	}
	return week
}

func randSchedule(t testing.TB, r *rand.Rand) Schedule {
	t.Helper()
	s, err := New(oracleZones[r.IntN(len(oracleZones))], randWeek(r))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	return s
}

// transitions returns the instants in 2026 at which loc's offset changes.
func transitions(loc *time.Location) []time.Time {
	var ts []time.Time
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.Year() > 2026 {
			return ts
		}
		ts = append(ts, end)
		t = end
	}
}

func TestOpenAtOracle(t *testing.T) {
	r := newRand(t)
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, zone := range oracleZones {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			// Critical moments: each offset change, and each week wrap
			// (local Monday 00:00) of a few weeks, around which every minute
			// of ±6 hours is probed.
			critical := transitions(loc)
			if zone == "America/New_York" && len(critical) != 2 {
				t.Fatalf("New York changes clocks %d times in 2026", len(critical))
			}
			for _, day := range []int{5, 12, 40, 96, 180, 301, 362} {
				critical = append(critical, time.Date(2026, 1, day, 0, 0, 0, 0, loc))
			}
			for range 40 {
				s, err := New(zone, randWeek(r))
				if err != nil {
					t.Fatal(err)
				}
				probe := func(at time.Time) {
					if got, want := s.OpenAt(at), oracleOpenAt(&s, at); got != want {
						t.Fatalf("%v: OpenAt(%v = %v) = %v, want %v", s, at.UTC(), at.In(loc), got, want)
					}
				}
				for _, c := range critical {
					for m := -6 * 60; m <= 6*60; m++ {
						probe(c.Add(time.Duration(m) * time.Minute))
					}
					probe(c.Add(-time.Nanosecond))
					probe(c.Add(-time.Second))
					probe(c.Add(time.Second))
				}
				for range 2000 {
					probe(year.Add(time.Duration(r.Int64N(int64(366 * 24 * time.Hour)))))
				}
			}
		})
	}
}

// TestOracle checks the oracle itself on instants whose answer is known.
func TestOracle(t *testing.T) {
	s := parse(t, `{"time_zone":"America/New_York","weekly":{"sat":[["22:00","01:15"]],"sun":[["01:30","02:00"]]}}`)
	for at, want := range map[string]bool{
		"2026-11-01T05:00:00Z": true, "2026-11-01T05:20:00Z": false, "2026-11-01T05:45:00Z": true,
		"2026-11-01T06:10:00Z": true, "2026-11-01T06:20:00Z": false, "2026-11-01T06:45:00Z": true,
		"2026-11-01T07:00:00Z": false, "2026-11-01T02:00:00Z": true, "2026-11-01T01:59:00Z": false,
	} {
		if got := oracleOpenAt(&s, mustTime(t, at)); got != want {
			t.Errorf("oracle(%s) = %v, want %v", at, got, want)
		}
	}
}
