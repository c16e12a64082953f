package hours

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxSpans is the most spans one day may have: split shifts and a late
// opening fit comfortably, and the bound keeps decoding cheap.
const MaxSpans = 6

// minutesPerDay is the length of a day in wall-clock minutes.
const minutesPerDay = 24 * 60

var (
	// ErrInvalid is wrapped by every *Error: a schedule breaks a rule.
	ErrInvalid = errors.New("hours: invalid schedule")
	// ErrCorrupt is wrapped by DecodeBinary's errors when the bytes are not a
	// well-formed encoding.
	ErrCorrupt = errors.New("hours: corrupt binary schedule")
)

// Error reports which part of a schedule is invalid and why, so an HTTP
// layer can name the offending parameter. It wraps ErrInvalid.
type Error struct {
	// Field is the JSON path of the culprit: "time_zone", "weekly",
	// "weekly.mon", "weekly.mon[1]", an unknown key, or "" for the whole
	// document.
	Field string
	// Reason says what is wrong, in lowercase English.
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field == "" {
		return "hours: " + e.Reason
	}
	return "hours: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) *Error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Span is one opening period of a day: [Open, Close) in minutes since local
// midnight of that day. 0 ≤ Open < 1440 and Open < Close ≤ Open+1440; a
// Close beyond 1440 runs past midnight into the next day.
type Span struct {
	Open, Close int
}

// Schedule is a business's weekly opening hours in its time zone. The zero
// value means "hours unknown". Build one with New, UnmarshalJSON or
// DecodeBinary.
type Schedule struct {
	zone  string
	loc   *time.Location
	spans []Span   // every day's spans, day after day in time.Weekday order
	start [8]uint8 // the spans of day d are spans[start[d]:start[d+1]]
}

// dayKeys are the JSON keys of the days, indexed by time.Weekday.
var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekOrder is the order in which days are shown and checked.
var weekOrder = [7]time.Weekday{
	time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday,
}

// New returns the schedule of the IANA time zone timeZone with the spans of
// week, indexed by time.Weekday (week[time.Sunday] is Sunday). It fails with
// an *Error if a rule of the package is broken; Field names the culprit as
// the JSON form would ("weekly.fri[0]").
func New(timeZone string, week [7][]Span) (Schedule, error) {
	loc, err := loadZone(timeZone)
	if err != nil {
		return Schedule{}, err
	}
	n := 0
	for _, d := range weekOrder {
		if err := checkDay(d, week[d]); err != nil {
			return Schedule{}, err
		}
		n += len(week[d])
	}
	s := Schedule{zone: timeZone, loc: loc, spans: make([]Span, 0, n)}
	for d, spans := range week {
		s.spans = append(s.spans, spans...)
		s.start[d+1] = uint8(len(s.spans))
	}
	return s, nil
}

// checkDay checks the spans of one day on their own.
func checkDay(d time.Weekday, spans []Span) error {
	if len(spans) > MaxSpans {
		return invalid("weekly."+dayKeys[d], "has %d spans, at most %d allowed", len(spans), MaxSpans)
	}
	for i, sp := range spans {
		switch {
		case sp.Open < 0 || sp.Open >= minutesPerDay:
			return invalid(spanField(d, i), "opens at minute %d, outside [0, 1440)", sp.Open)
		case sp.Close <= sp.Open || sp.Close > sp.Open+minutesPerDay:
			return invalid(spanField(d, i), "closes at minute %d, not within 24 hours after opening at minute %d", sp.Close, sp.Open)
		case i > 0 && sp.Open < spans[i-1].Open:
			return invalid(spanField(d, i), "opens before %s: spans must be sorted", spanField(d, i-1))
		case i > 0 && sp.Open < spans[i-1].Close:
			return invalid(spanField(d, i), "overlaps %s", spanField(d, i-1))
		}
	}
	return nil
}

func spanField(d time.Weekday, i int) string {
	return fmt.Sprintf("weekly.%s[%d]", dayKeys[d], i)
}

// zones caches loaded locations by name: loading one reads and parses a file,
// and a table of many schedules in one zone should share one *time.Location.
// Only names that load are kept, so it holds at most the tz database.
var zones sync.Map // string → *time.Location

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "" {
		return nil, invalid("time_zone", "required")
	}
	if !ianaName(name) {
		return nil, invalid("time_zone", "%q is not an IANA time zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid("time_zone", "unknown time zone %q", name)
	}
	zones.Store(name, loc)
	return loc, nil
}

// ianaName reports whether name is spelled like an IANA zone name: parts of
// letters, digits, '_', '+' and '-' joined by '/'. It refuses "Local", which
// time.LoadLocation maps to the server's own zone, "localtime", which some
// systems' tz databases hold as a link to /etc/localtime (the server's zone
// again), and paths like "a/./b" the file system would accept.
func ianaName(name string) bool {
	if name == "Local" || strings.EqualFold(name, "localtime") {
		return false
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" {
			return false
		}
		for _, c := range []byte(part) {
			ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

// Known reports whether the hours are known; false for the zero Schedule.
func (s *Schedule) Known() bool { return s.loc != nil }

// TimeZone returns the IANA name of the schedule's time zone, "" if the
// hours are unknown.
func (s *Schedule) TimeZone() string { return s.zone }

// Spans returns a copy of the spans of day d, empty if the day is closed.
func (s *Schedule) Spans(d time.Weekday) []Span {
	return slices.Clone(s.day(d))
}

func (s *Schedule) day(d time.Weekday) []Span {
	return s.spans[s.start[d]:s.start[d+1]]
}

// OpenAt reports whether the business is open at instant t, judged by the
// wall clock of its own time zone (see the package rules for DST). It is
// false if the hours are unknown.
func (s *Schedule) OpenAt(t time.Time) bool {
	if s.loc == nil {
		return false
	}
	t = t.In(s.loc)
	d := t.Weekday()
	h, m, _ := t.Clock()
	now := h*60 + m
	for _, sp := range s.day(d) {
		if now < sp.Open {
			break
		}
		if now < sp.Close {
			return true
		}
	}
	// Only the last span of a day can run past midnight.
	prev := s.day((d + 6) % 7)
	return len(prev) > 0 && now+minutesPerDay < prev[len(prev)-1].Close
}

// Equal reports whether s and o are the same schedule: same zone name and
// same spans. Different names for one zone ("US/Eastern",
// "America/New_York") are different schedules.
func (s *Schedule) Equal(o *Schedule) bool {
	return s.zone == o.zone && s.start == o.start && slices.Equal(s.spans, o.spans)
}

// Key returns the canonical binary encoding of s as a string, to deduplicate
// schedules in a map: Key is equal exactly when Equal is true.
func (s *Schedule) Key() string {
	return string(s.AppendBinary(nil))
}

// String returns a one-line form for logs, such as
// "Europe/Paris mon 09:00-12:00,14:00-18:30 fri 22:00-02:00", "UTC closed"
// or "unknown".
func (s Schedule) String() string {
	if !s.Known() {
		return "unknown"
	}
	var b []byte
	b = append(b, s.zone...)
	closed := true
	for _, d := range weekOrder {
		spans := s.day(d)
		if len(spans) == 0 {
			continue
		}
		closed = false
		b = append(b, ' ')
		b = append(b, dayKeys[d]...)
		for i, sp := range spans {
			b = append(b, " ,"[min(i, 1)])
			b = appendClock(b, sp.Open)
			b = append(b, '-')
			b = appendClose(b, sp.Close)
		}
	}
	if closed {
		b = append(b, " closed"...)
	}
	return string(b)
}

// appendClock appends minute m of a day, 0 ≤ m ≤ 1440, as "HH:MM".
func appendClock(b []byte, m int) []byte {
	h := m / 60
	m %= 60
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10))
}

// appendClose appends a Close as its wall time on the day it falls: minutes
// past midnight of the next day for a Close beyond 1440, and "24:00" for
// midnight at the end of the span's own day.
func appendClose(b []byte, c int) []byte {
	if c > minutesPerDay {
		c -= minutesPerDay
	}
	return appendClock(b, c)
}
