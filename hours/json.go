package hours

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"time"
)

// MarshalJSON returns the JSON form described in the package documentation,
// all seven days in the order mon..sun, or null if the hours are unknown.
func (s Schedule) MarshalJSON() ([]byte, error) {
	if !s.Known() {
		return []byte("null"), nil
	}
	// The zone name holds only letters, digits and "/_+-": no escaping.
	b := append([]byte(`{"time_zone":"`), s.zone...)
	b = append(b, `","weekly":{`...)
	for i, d := range weekOrder {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, dayKeys[d]...)
		b = append(b, `":[`...)
		for j, sp := range s.day(d) {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = appendClock(b, sp.Open)
			b = append(b, `","`...)
			b = appendClose(b, sp.Close)
			b = append(b, `"]`...)
		}
		b = append(b, ']')
	}
	return append(b, "}}"...), nil
}

// UnmarshalJSON sets s from the JSON form described in the package
// documentation. As encoding/json expects, null leaves s unchanged. Any
// other document that breaks a rule, including one without "time_zone",
// gives an *Error naming the offending field, and leaves s unchanged.
func (s *Schedule) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	doc, dup, err := members(data)
	switch {
	case err != nil:
		return invalid("", "must be a JSON object")
	case dup != "":
		return invalid(dup, "given more than once")
	}
	var zone string
	var week [7][]Span
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "time_zone":
			if err := json.Unmarshal(doc[k], &zone); err != nil {
				return invalid(k, "must be a string")
			}
		case "weekly":
			var err error
			if week, err = parseWeekly(doc[k]); err != nil {
				return err
			}
		default:
			return invalid(k, "unknown field")
		}
	}
	v, err := New(zone, week)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// members returns the members of data, a JSON object, by name, and the
// name of the first that repeats an earlier one, if any: encoding/json
// would silently keep the last (and a day's hours would be lost).
func members(data []byte) (map[string]json.RawMessage, string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", errors.New("not a JSON object")
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", err
		}
		if _, ok := m[name]; ok {
			return m, name, nil
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errors.New("data after the JSON object")
	}
	return m, "", nil
}

func parseWeekly(data json.RawMessage) (week [7][]Span, err error) {
	if string(data) == "null" {
		return week, nil // as no days
	}
	days, dup, err := members(data)
	switch {
	case err != nil:
		return week, invalid("weekly", "must be an object of days")
	case dup != "":
		return week, invalid("weekly."+dup, "given more than once")
	}
	for _, k := range slices.Sorted(maps.Keys(days)) {
		if !slices.Contains(dayKeys[:], k) {
			return week, invalid("weekly."+k, "unknown day, want mon, tue, wed, thu, fri, sat or sun")
		}
	}
	for _, d := range weekOrder {
		data, ok := days[dayKeys[d]]
		if !ok {
			continue
		}
		if week[d], err = parseDay(d, data); err != nil {
			return week, err
		}
	}
	return week, nil
}

func parseDay(d time.Weekday, data json.RawMessage) ([]Span, error) {
	var pairs []json.RawMessage
	if err := json.Unmarshal(data, &pairs); err != nil {
		return nil, invalid("weekly."+dayKeys[d], `must be a list of ["HH:MM","HH:MM"] pairs`)
	}
	var spans []Span
	for i, p := range pairs {
		var pair []string
		if err := json.Unmarshal(p, &pair); err != nil || len(pair) != 2 {
			return nil, invalid(spanField(d, i), `must be a pair ["HH:MM","HH:MM"]`)
		}
		open, ok := parseClock(pair[0])
		if !ok || open == minutesPerDay {
			return nil, invalid(spanField(d, i), "opening time %q is not HH:MM from 00:00 to 23:59", pair[0])
		}
		close, ok := parseClock(pair[1])
		if !ok {
			return nil, invalid(spanField(d, i), "closing time %q is not HH:MM from 00:00 to 24:00", pair[1])
		}
		if close <= open {
			close += minutesPerDay
		}
		spans = append(spans, Span{open, close})
	}
	return spans, nil
}

// parseClock parses "HH:MM", 00:00 to 24:00, as minutes since midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}
