package hours

import (
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// newRand returns a seeded generator and logs the seed so a failure
// reproduces with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// parse builds a schedule from its JSON form and checks its invariants.
func parse(t testing.TB, doc string) Schedule {
	t.Helper()
	var s Schedule
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	if err := s.check(); err != nil {
		t.Fatalf("parse %s: check: %v", doc, err)
	}
	return s
}

func mustTime(t testing.TB, rfc3339 string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestOpenAt checks hand-computed answers, many at DST transitions. Local
// times are noted next to each UTC instant.
func TestOpenAt(t *testing.T) {
	type probe struct {
		at   string
		want bool
	}
	tests := []struct {
		name   string
		doc    string
		probes []probe
	}{
		{
			name: "split day, boundaries and seconds",
			doc:  `{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]]}}`,
			probes: []probe{
				{"2026-01-05T07:59:59Z", false}, // Mon 08:59:59 CET
				{"2026-01-05T08:00:00Z", true},  // 09:00
				{"2026-01-05T10:59:59Z", true},  // 11:59:59
				{"2026-01-05T11:00:00Z", false}, // 12:00
				{"2026-01-05T13:00:00Z", true},  // 14:00
				{"2026-01-05T17:29:00Z", true},  // 18:29
				{"2026-01-05T17:30:00Z", false}, // 18:30
				{"2026-01-12T08:00:00+01:00", false},
				{"2026-01-12T09:00:00+01:00", true},
				{"2026-01-12T17:00:00+09:00", true},     // Mon 09:00 CET seen from Tokyo
				{"2026-07-06T09:30:00+02:00", true},     // summer time
				{"2026-07-06T07:30:00Z", true},          // Mon 09:30 CEST
				{"2026-07-06T06:30:00Z", false},         // Mon 08:30 CEST
				{"2026-01-06T08:00:00Z", false},         // Tuesday is closed
				{"2026-01-04T08:00:00Z", false},         // Sunday is closed
				{"2026-01-05T08:00:00-00:00", true},     // same instant, other spelling
				{"2026-01-05T03:00:00-05:00", true},     // 09:00 CET seen from New York
				{"2026-01-05T02:59:00-05:00", false},    // 08:59 CET
				{"2026-01-04T23:00:00-09:00", true},     // 09:00 CET seen from Alaska
				{"2026-01-05T20:00:00+09:00", false},    // 12:00 CET
				{"2026-01-05T22:00:00+09:00", true},     // 14:00 CET
				{"2026-01-05T18:29:59+01:00", true},     // 18:29:59
				{"2026-01-05T18:30:00+01:00", false},    // 18:30
				{"2026-01-05T12:00:00+01:00", false},    // 12:00 gap
				{"2026-01-05T13:59:59+01:00", false},    // 13:59:59 gap
				{"2026-01-05T14:00:00+01:00", true},     // 14:00
				{"2026-01-05T00:00:00+01:00", false},    // midnight
				{"2026-01-05T23:59:59+01:00", false},    // last second
				{"2026-01-05T09:00:00.999+01:00", true}, // fractions ignored
			},
		},
		{
			name: "past midnight and week wrap",
			doc:  `{"time_zone":"UTC","weekly":{"fri":[["22:00","02:00"]],"sun":[["22:00","02:00"]]}}`,
			probes: []probe{
				{"2026-01-02T21:59:00Z", false}, // Fri
				{"2026-01-02T22:00:00Z", true},
				{"2026-01-02T23:59:59Z", true},
				{"2026-01-03T00:00:00Z", true}, // Sat
				{"2026-01-03T01:59:59Z", true},
				{"2026-01-03T02:00:00Z", false},
				{"2026-01-03T22:00:00Z", false}, // Sat has no spans
				{"2026-01-04T00:30:00Z", false}, // Sun: Sat has no tail
				{"2026-01-04T22:00:00Z", true},  // Sun
				{"2026-01-05T00:00:00Z", true},  // Mon, Sunday's tail
				{"2026-01-05T01:59:00Z", true},
				{"2026-01-05T02:00:00Z", false},
				{"2026-12-27T23:00:00Z", true}, // Sun, last week of the year
				{"2026-12-28T01:00:00Z", true}, // Mon
			},
		},
		{
			name: "past midnight into a whole day",
			doc:  `{"time_zone":"Europe/Paris","weekly":{"fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]]}}`,
			probes: []probe{
				{"2026-01-09T21:00:00Z", true},  // Fri 22:00 CET
				{"2026-01-10T00:30:00Z", true},  // Sat 01:30, both spans
				{"2026-01-10T02:00:00Z", true},  // Sat 03:00, Saturday's span only
				{"2026-01-10T22:59:00Z", true},  // Sat 23:59
				{"2026-01-10T23:00:00Z", false}, // Sun 00:00
			},
		},
		{
			name: "whole days and 24-hour spans",
			doc:  `{"time_zone":"UTC","weekly":{"sat":[["00:00","24:00"]],"mon":[["09:00","09:00"]],"wed":[["00:00","00:00"]]}}`,
			probes: []probe{
				{"2026-01-02T23:59:59Z", false}, // Fri
				{"2026-01-03T00:00:00Z", true},  // Sat
				{"2026-01-03T23:59:59Z", true},
				{"2026-01-04T00:00:00Z", false}, // Sun
				{"2026-01-05T08:59:00Z", false}, // Mon
				{"2026-01-05T09:00:00Z", true},
				{"2026-01-06T08:59:00Z", true}, // Tue, Monday's tail
				{"2026-01-06T09:00:00Z", false},
				{"2026-01-07T00:00:00Z", true}, // Wed
				{"2026-01-07T23:59:00Z", true},
				{"2026-01-08T00:00:00Z", false}, // Thu
			},
		},
		{
			name: "New York spring forward",
			doc:  `{"time_zone":"America/New_York","weekly":{"sun":[["02:00","03:00"],["04:00","05:00"]],"sat":[["22:00","02:30"]]}}`,
			probes: []probe{
				{"2026-03-08T02:59:00Z", false}, // Sat 21:59 EST
				{"2026-03-08T03:00:00Z", true},  // Sat 22:00 EST
				{"2026-03-08T06:59:59Z", true},  // Sun 01:59:59 EST, Saturday's tail
				{"2026-03-08T07:00:00Z", false}, // Sun 03:00 EDT: 02:00-03:00 never existed
				{"2026-03-08T07:59:00Z", false}, // Sun 03:59 EDT
				{"2026-03-08T08:00:00Z", true},  // Sun 04:00 EDT
				{"2026-03-01T07:30:00Z", true},  // Sun 02:30 EST a week before
				{"2026-03-15T06:30:00Z", true},  // Sun 02:30 EDT a week after
				{"2026-03-15T06:00:00Z", true},  // Sun 02:00 EDT, Saturday's tail too
			},
		},
		{
			name: "New York fall back",
			doc:  `{"time_zone":"America/New_York","weekly":{"sun":[["01:30","02:00"]],"sat":[["22:00","01:15"]]}}`,
			probes: []probe{
				{"2026-11-01T05:00:00Z", true},  // Sun 01:00 EDT, Saturday's tail
				{"2026-11-01T05:14:00Z", true},  // 01:14 EDT
				{"2026-11-01T05:15:00Z", false}, // 01:15 EDT
				{"2026-11-01T05:30:00Z", true},  // 01:30 EDT
				{"2026-11-01T05:59:59Z", true},  // 01:59:59 EDT
				{"2026-11-01T06:00:00Z", true},  // 01:00 EST: the tail again
				{"2026-11-01T06:14:00Z", true},  // 01:14 EST
				{"2026-11-01T06:15:00Z", false}, // 01:15 EST
				{"2026-11-01T06:30:00Z", true},  // 01:30 EST: the span again
				{"2026-11-01T06:59:00Z", true},  // 01:59 EST
				{"2026-11-01T07:00:00Z", false}, // 02:00 EST
			},
		},
		{
			name: "London both ways",
			doc:  `{"time_zone":"Europe/London","weekly":{"sun":[["01:00","02:00"]]}}`,
			probes: []probe{
				{"2026-03-29T00:59:00Z", false}, // 00:59 GMT
				{"2026-03-29T01:00:00Z", false}, // 02:00 BST: 01:00-02:00 skipped
				{"2026-10-25T00:00:00Z", true},  // 01:00 BST
				{"2026-10-25T00:59:00Z", true},  // 01:59 BST
				{"2026-10-25T01:00:00Z", true},  // 01:00 GMT
				{"2026-10-25T01:59:00Z", true},  // 01:59 GMT
				{"2026-10-25T02:00:00Z", false}, // 02:00 GMT
				{"2026-10-24T23:59:00Z", false}, // 00:59 BST
			},
		},
		{
			name: "Paris spring forward under a past-midnight span",
			doc:  `{"time_zone":"Europe/Paris","weekly":{"sat":[["22:00","02:30"]],"sun":[["03:00","04:00"]]}}`,
			probes: []probe{
				{"2026-03-28T21:00:00Z", true},  // Sat 22:00 CET
				{"2026-03-29T00:59:59Z", true},  // Sun 01:59:59 CET
				{"2026-03-29T01:00:00Z", true},  // Sun 03:00 CEST
				{"2026-03-29T01:59:00Z", true},  // Sun 03:59 CEST
				{"2026-03-29T02:00:00Z", false}, // Sun 04:00 CEST
			},
		},
		{
			name: "Lord Howe half-hour shifts",
			doc:  `{"time_zone":"Australia/Lord_Howe","weekly":{"sun":[["01:30","02:30"]]}}`,
			probes: []probe{
				{"2026-04-04T14:29:00Z", false}, // Sun 01:29 +11
				{"2026-04-04T14:30:00Z", true},  // 01:30 +11
				{"2026-04-04T14:59:00Z", true},  // 01:59 +11
				{"2026-04-04T15:00:00Z", true},  // 01:30 +10:30
				{"2026-04-04T15:59:00Z", true},  // 02:29 +10:30
				{"2026-04-04T16:00:00Z", false}, // 02:30 +10:30
				{"2026-10-03T15:00:00Z", true},  // Sun 01:30 +10:30
				{"2026-10-03T15:29:00Z", true},  // 01:59 +10:30
				{"2026-10-03T15:30:00Z", false}, // 02:30 +11: 02:00-02:30 skipped
			},
		},
		{
			name: "Santiago skips midnight",
			doc:  `{"time_zone":"America/Santiago","weekly":{"sat":[["23:00","00:30"]],"sun":[["00:45","01:30"]]}}`,
			probes: []probe{
				{"2026-09-06T02:59:00Z", false}, // Sat 22:59 -04
				{"2026-09-06T03:00:00Z", true},  // Sat 23:00 -04
				{"2026-09-06T03:59:00Z", true},  // Sat 23:59 -04
				{"2026-09-06T04:00:00Z", true},  // Sun 01:00 -03: 00:00-01:00 skipped
				{"2026-09-06T04:29:00Z", true},  // Sun 01:29 -03
				{"2026-09-06T04:30:00Z", false}, // Sun 01:30 -03
				{"2026-04-05T02:30:00Z", true},  // Sat 23:30 -03
				{"2026-04-05T03:30:00Z", true},  // Sat 23:30 -04, the hour repeated
				{"2026-04-05T04:15:00Z", true},  // Sun 00:15 -04, Saturday's tail
				{"2026-04-05T04:30:00Z", false}, // Sun 00:30 -04
			},
		},
		{
			name: "Kolkata",
			doc:  `{"time_zone":"Asia/Kolkata","weekly":{"mon":[["09:00","17:00"]]}}`,
			probes: []probe{
				{"2026-01-05T03:29:00Z", false}, // Mon 08:59 IST
				{"2026-01-05T03:30:00Z", true},  // 09:00 IST
				{"2026-01-05T11:29:00Z", true},  // 16:59 IST
				{"2026-01-05T11:30:00Z", false}, // 17:00 IST
			},
		},
		{
			name: "Apia",
			doc:  `{"time_zone":"Pacific/Apia","weekly":{"mon":[["09:00","17:00"]]}}`,
			probes: []probe{
				{"2026-01-04T19:59:00Z", false}, // Mon 08:59 +13
				{"2026-01-04T20:00:00Z", true},  // Mon 09:00 +13, still Sunday in UTC
				{"2026-01-05T03:59:00Z", true},  // 16:59
				{"2026-01-05T04:00:00Z", false}, // 17:00
			},
		},
		{
			name: "always closed",
			doc:  `{"time_zone":"UTC","weekly":{"mon":[]}}`,
			probes: []probe{
				{"2026-01-05T12:00:00Z", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, tt.doc)
			for _, p := range tt.probes {
				if got := s.OpenAt(mustTime(t, p.at)); got != p.want {
					t.Errorf("OpenAt(%s) = %v, want %v", p.at, got, p.want)
				}
			}
		})
	}
}

// TestUnknown checks that the zero schedule never matches and says so.
func TestUnknown(t *testing.T) {
	var s Schedule
	if s.Known() {
		t.Error("zero Schedule is known")
	}
	for at := mustTime(t, "2026-01-05T00:00:00Z"); at.Before(mustTime(t, "2026-01-12T00:00:00Z")); at = at.Add(time.Hour) {
		if s.OpenAt(at) {
			t.Fatalf("zero Schedule open at %v", at)
		}
	}
	if got := s.String(); got != "unknown" {
		t.Errorf("String() = %q", got)
	}
	if b, _ := json.Marshal(s); string(b) != "null" {
		t.Errorf("MarshalJSON = %s", b)
	}
	if err := json.Unmarshal([]byte("null"), &s); err != nil || s.Known() {
		t.Errorf("Unmarshal(null) = %v, known %v", err, s.Known())
	}
	closed := parse(t, `{"time_zone":"UTC"}`)
	if !closed.Known() || closed.OpenAt(mustTime(t, "2026-01-05T12:00:00Z")) {
		t.Errorf("known schedule without spans: known %v", closed.Known())
	}
}

func TestNewErrors(t *testing.T) {
	day := func(d time.Weekday, spans ...Span) [7][]Span {
		var w [7][]Span
		w[d] = spans
		return w
	}
	tests := []struct {
		name  string
		zone  string
		week  [7][]Span
		field string
	}{
		{"no zone", "", [7][]Span{}, "time_zone"},
		{"Local", "Local", [7][]Span{}, "time_zone"},
		// Debian's tz database links zoneinfo/localtime to /etc/localtime:
		// it would load as the server's own zone.
		{"localtime", "localtime", [7][]Span{}, "time_zone"},
		{"unknown zone", "Mars/Olympus_Mons", [7][]Span{}, "time_zone"},
		{"dot path", "Europe/./Paris", [7][]Span{}, "time_zone"},
		{"dot dot", "../zoneinfo/UTC", [7][]Span{}, "time_zone"},
		{"absolute", "/usr/share/zoneinfo/UTC", [7][]Span{}, "time_zone"},
		{"trailing slash", "Europe/Paris/", [7][]Span{}, "time_zone"},
		{"space", "Europe/Paris ", [7][]Span{}, "time_zone"},
		{"open negative", "UTC", day(time.Monday, Span{-1, 60}), "weekly.mon[0]"},
		{"open 24:00", "UTC", day(time.Tuesday, Span{1440, 1500}), "weekly.tue[0]"},
		{"empty span", "UTC", day(time.Wednesday, Span{600, 600}), "weekly.wed[0]"},
		{"close before open", "UTC", day(time.Thursday, Span{600, 500}), "weekly.thu[0]"},
		{"longer than a day", "UTC", day(time.Friday, Span{600, 2041}), "weekly.fri[0]"},
		{"unsorted", "UTC", day(time.Saturday, Span{600, 700}, Span{500, 550}), "weekly.sat[1]"},
		{"overlap", "UTC", day(time.Sunday, Span{600, 700}, Span{699, 800}), "weekly.sun[1]"},
		{"overlap past midnight", "UTC", day(time.Monday, Span{1320, 1560}, Span{1400, 1430}), "weekly.mon[1]"},
		{"too many", "UTC", day(time.Monday, Span{0, 1}, Span{2, 3}, Span{4, 5}, Span{6, 7}, Span{8, 9}, Span{10, 11}, Span{12, 13}), "weekly.mon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.zone, tt.week)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("New = %v, %v; want an *Error wrapping ErrInvalid", s, err)
			}
			if e.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", e.Field, tt.field, err)
			}
			if s.Known() {
				t.Errorf("New returned a known schedule with an error")
			}
		})
	}
}

// TestNewValid checks limits that must be accepted.
func TestNewValid(t *testing.T) {
	var w [7][]Span
	w[time.Monday] = []Span{{0, 1}, {1, 2}, {2, 3}, {4, 5}, {6, 7}, {1439, 2879}} // six, touching, a full 24 h
	w[time.Tuesday] = []Span{{1439, 1440}}                                        // touches Monday's tail
	w[time.Saturday] = []Span{{1320, 1560}}
	w[time.Sunday] = []Span{{120, 1440}} // touches Saturday's tail
	s, err := New("America/Argentina/ComodRivadavia", w)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	for d := range w {
		if got := s.Spans(time.Weekday(d)); !equalSpans(got, w[d]) {
			t.Errorf("Spans(%v) = %v, want %v", time.Weekday(d), got, w[d])
		}
	}
	s.Spans(time.Monday)[0].Open = 99
	if s.Spans(time.Monday)[0].Open != 0 {
		t.Error("Spans exposes the schedule's memory")
	}
	for _, zone := range []string{"UTC", "Etc/GMT+5", "America/Port-au-Prince", "EST5EDT"} {
		if _, err := New(zone, [7][]Span{}); err != nil {
			t.Errorf("New(%q): %v", zone, err)
		}
	}
}

func equalSpans(a, b []Span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEqualAndKey(t *testing.T) {
	a := parse(t, `{"time_zone":"Europe/Paris","weekly":{"mon":[["18:00","00:00"]]}}`)
	b := parse(t, `{"time_zone":"Europe/Paris","weekly":{"mon":[["18:00","24:00"]],"tue":[]}}`)
	others := []Schedule{
		{},
		parse(t, `{"time_zone":"Europe/Paris"}`),
		parse(t, `{"time_zone":"Europe/Berlin","weekly":{"mon":[["18:00","24:00"]]}}`),
		parse(t, `{"time_zone":"Europe/Paris","weekly":{"tue":[["18:00","24:00"]]}}`),
		parse(t, `{"time_zone":"Europe/Paris","weekly":{"mon":[["18:00","23:59"]]}}`),
		parse(t, `{"time_zone":"Europe/Paris","weekly":{"mon":[["18:00","00:01"]]}}`),
		parse(t, `{"time_zone":"Europe/Paris","weekly":{"mon":[["18:00","20:00"],["20:00","24:00"]]}}`),
		parse(t, `{"time_zone":"Europe/Paris","weekly":{"sun":[["18:00","24:00"]]}}`),
	}
	if !a.Equal(&b) || a.Key() != b.Key() {
		t.Errorf("%v and %v differ", a, b)
	}
	all := append([]Schedule{a}, others...)
	for i := range all {
		for j := range all {
			if eq, sameKey := all[i].Equal(&all[j]), all[i].Key() == all[j].Key(); eq != (i == j) || sameKey != (i == j) {
				t.Errorf("%v vs %v: Equal %v, same Key %v", all[i], all[j], eq, sameKey)
			}
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"time_zone":"Europe/Paris","weekly":{"sun":[["10:00","12:00"]],"mon":[["09:00","12:00"],["14:00","18:30"]],"fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]]}}`,
			"Europe/Paris mon 09:00-12:00,14:00-18:30 fri 22:00-02:00 sat 00:00-24:00 sun 10:00-12:00"},
		{`{"time_zone":"UTC","weekly":{"wed":[["09:00","09:00"]]}}`, "UTC wed 09:00-09:00"},
		{`{"time_zone":"UTC"}`, "UTC closed"},
	}
	for _, tt := range tests {
		s := parse(t, tt.doc)
		if got := s.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
