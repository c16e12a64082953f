package hours

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{
			`{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[],"fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]]}}`,
			`{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[],"wed":[],"thu":[],"fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]],"sun":[]}}`,
		},
		{
			// Closes at or before opening mean the next day; midnight is written 24:00.
			` { "weekly" : {"sun":[["18:00","00:00"]],"wed":[["09:00","09:00"]],"thu":[["00:00","00:00"]]}, "time_zone" : "UTC" } `,
			`{"time_zone":"UTC","weekly":{"mon":[],"tue":[],"wed":[["09:00","09:00"]],"thu":[["00:00","24:00"]],"fri":[],"sat":[],"sun":[["18:00","24:00"]]}}`,
		},
		{
			`{"time_zone":"Asia/Kolkata","weekly":null}`,
			`{"time_zone":"Asia/Kolkata","weekly":{"mon":[],"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]}}`,
		},
		{
			`{"time_zone":"UTC","weekly":{"mon":null,"tue":[["23:59","00:00"]]}}`,
			`{"time_zone":"UTC","weekly":{"mon":[],"tue":[["23:59","24:00"]],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]}}`,
		},
	}
	for _, tt := range tests {
		s := parse(t, tt.in)
		got, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("Marshal(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		again := parse(t, string(got))
		if !again.Equal(&s) {
			t.Errorf("round trip of %s: %v, want %v", tt.in, again, s)
		}
	}
}

// TestJSONInStruct checks the forms callers embed: a pointer that may be
// absent, and errors that reach them through encoding/json intact.
func TestJSONInStruct(t *testing.T) {
	type business struct {
		Hours *Schedule `json:"hours,omitempty"`
	}
	b, err := json.Marshal(business{})
	if err != nil || string(b) != `{}` {
		t.Errorf("Marshal(no hours) = %s, %v", b, err)
	}
	s := parse(t, `{"time_zone":"UTC","weekly":{"mon":[["09:00","17:00"]]}}`)
	b, err = json.Marshal(business{&s})
	want := `{"hours":{"time_zone":"UTC","weekly":{"mon":[["09:00","17:00"]],"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]}}}`
	if err != nil || string(b) != want {
		t.Errorf("Marshal = %s, %v; want %s", b, err, want)
	}
	var got business
	if err := json.Unmarshal(b, &got); err != nil || got.Hours == nil || !got.Hours.Equal(&s) {
		t.Errorf("Unmarshal(%s) = %v, %v", b, got.Hours, err)
	}
	got = business{}
	if err := json.Unmarshal([]byte(`{"hours":null}`), &got); err != nil || got.Hours != nil {
		t.Errorf("Unmarshal(null) = %v, %v", got.Hours, err)
	}
	err = json.Unmarshal([]byte(`{"hours":{"time_zone":"UTC","weekly":{"mon":[["09:00","25:00"]]}}}`), &got)
	var e *Error
	if !errors.As(err, &e) || e.Field != "weekly.mon[0]" {
		t.Errorf("Unmarshal(bad hours) = %v, want an *Error for weekly.mon[0]", err)
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ name, doc, field string }{
		{"array", `[]`, ""},
		{"string", `"Europe/Paris"`, ""},
		{"number", `5`, ""},
		{"syntax", `{"time_zone":`, ""},
		{"empty object", `{}`, "time_zone"},
		{"empty zone", `{"time_zone":""}`, "time_zone"},
		{"null zone", `{"time_zone":null}`, "time_zone"},
		{"numeric zone", `{"time_zone":5}`, "time_zone"},
		{"bad zone", `{"time_zone":"Mars/Olympus_Mons"}`, "time_zone"},
		{"Local", `{"time_zone":"Local"}`, "time_zone"},
		{"lowercase zone", `{"time_zone":"europe/paris"}`, "time_zone"},
		{"zone path", `{"time_zone":"../../../etc/passwd"}`, "time_zone"},
		{"no zone", `{"weekly":{"mon":[["09:00","17:00"]]}}`, "time_zone"},
		{"unknown field", `{"time_zone":"UTC","hours":{}}`, "hours"},
		{"case of field", `{"Time_Zone":"UTC"}`, "Time_Zone"},
		{"weekly array", `{"time_zone":"UTC","weekly":[]}`, "weekly"},
		{"unknown day", `{"time_zone":"UTC","weekly":{"monday":[]}}`, "weekly.monday"},
		{"day case", `{"time_zone":"UTC","weekly":{"Mon":[]}}`, "weekly.Mon"},
		{"day object", `{"time_zone":"UTC","weekly":{"mon":{}}}`, "weekly.mon"},
		{"day string", `{"time_zone":"UTC","weekly":{"tue":"09:00-17:00"}}`, "weekly.tue"},
		{"flat pair", `{"time_zone":"UTC","weekly":{"wed":["09:00","17:00"]}}`, "weekly.wed[0]"},
		{"one time", `{"time_zone":"UTC","weekly":{"thu":[["09:00"]]}}`, "weekly.thu[0]"},
		{"three times", `{"time_zone":"UTC","weekly":{"fri":[["09:00","12:00","13:00"]]}}`, "weekly.fri[0]"},
		{"numbers", `{"time_zone":"UTC","weekly":{"sat":[[900,1700]]}}`, "weekly.sat[0]"},
		{"null pair", `{"time_zone":"UTC","weekly":{"sun":[null]}}`, "weekly.sun[0]"},
		{"null time", `{"time_zone":"UTC","weekly":{"sun":[["09:00",null]]}}`, "weekly.sun[0]"},
		{"short hour", `{"time_zone":"UTC","weekly":{"mon":[["9:00","17:00"]]}}`, "weekly.mon[0]"},
		{"seconds", `{"time_zone":"UTC","weekly":{"mon":[["09:00:00","17:00"]]}}`, "weekly.mon[0]"},
		{"minute 60", `{"time_zone":"UTC","weekly":{"mon":[["09:60","17:00"]]}}`, "weekly.mon[0]"},
		{"hour 25", `{"time_zone":"UTC","weekly":{"mon":[["09:00","25:00"]]}}`, "weekly.mon[0]"},
		{"24:30", `{"time_zone":"UTC","weekly":{"mon":[["09:00","24:30"]]}}`, "weekly.mon[0]"},
		{"open 24:00", `{"time_zone":"UTC","weekly":{"mon":[["24:00","02:00"]]}}`, "weekly.mon[0]"},
		{"open 24:00 reason", `{"time_zone":"UTC","weekly":{"mon":[["24:00","02:00"]]}}`, `weekly.mon[0]: opening time "24:00"`},
		{"close 24:30 reason", `{"time_zone":"UTC","weekly":{"mon":[["09:00","24:30"]]}}`, `weekly.mon[0]: closing time "24:30"`},
		{"zone reason", `{"time_zone":"Nowhere/Zone"}`, `time_zone: unknown time zone "Nowhere/Zone"`},
		{"dash", `{"time_zone":"UTC","weekly":{"mon":[["09-00","17:00"]]}}`, "weekly.mon[0]"},
		{"letters", `{"time_zone":"UTC","weekly":{"mon":[["ab:cd","17:00"]]}}`, "weekly.mon[0]"},
		{"sign", `{"time_zone":"UTC","weekly":{"mon":[["+9:00","17:00"]]}}`, "weekly.mon[0]"},
		{"empty time", `{"time_zone":"UTC","weekly":{"mon":[["09:00",""]]}}`, "weekly.mon[0]"},
		{"pm", `{"time_zone":"UTC","weekly":{"mon":[["09:00","5pm"]]}}`, "weekly.mon[0]"},
		{"second pair bad", `{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["13:00","1800"]]}}`, "weekly.mon[1]"},
		{"overlap", `{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["11:00","13:00"]]}}`, "weekly.mon[1]"},
		{"unsorted", `{"time_zone":"UTC","weekly":{"tue":[["14:00","18:00"],["09:00","12:00"]]}}`, "weekly.tue[1]"},
		{"overlap past midnight", `{"time_zone":"UTC","weekly":{"wed":[["20:00","02:00"],["23:00","23:30"]]}}`, "weekly.wed[1]"},
		{"same span twice", `{"time_zone":"UTC","weekly":{"thu":[["09:00","12:00"],["09:00","12:00"]]}}`, "weekly.thu[1]"},
		{"too many", `{"time_zone":"UTC","weekly":{"fri":[["01:00","02:00"],["03:00","04:00"],["05:00","06:00"],["07:00","08:00"],["09:00","10:00"],["11:00","12:00"],["13:00","14:00"]]}}`, "weekly.fri"},
		{"zone twice", `{"time_zone":"UTC","time_zone":"Asia/Tokyo"}`, "time_zone: given more than once"},
		{"weekly twice", `{"time_zone":"UTC","weekly":{},"weekly":{"mon":[]}}`, "weekly: given more than once"},
		{"day twice", `{"time_zone":"UTC","weekly":{"mon":[["09:00","17:00"]],"tue":[],"mon":[]}}`, "weekly.mon: given more than once"},
		{"day twice escaped", `{"time_zone":"UTC","weekly":{"mon":[],"m\u006fn":[]}}`, "weekly.mon: given more than once"},
		{"trailing data", `{"time_zone":"UTC"} {}`, ""},
		{"zone error before day error", `{"time_zone":"Nowhere/Zone","weekly":{"mon":[["09:00","12:00"],["11:00","13:00"]]}}`, "time_zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, `{"time_zone":"UTC","weekly":{"mon":[["09:00","17:00"]]}}`)
			before := s
			err := s.UnmarshalJSON([]byte(tt.doc))
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("UnmarshalJSON(%s) = %v; want an *Error wrapping ErrInvalid", tt.doc, err)
			}
			// A field with ": " also names the start of the reason.
			field, reason, _ := strings.Cut(tt.field, ": ")
			if e.Field != field || !strings.HasPrefix(e.Reason, reason) {
				t.Errorf("Field, Reason = %q, %q; want %q, %q...", e.Field, e.Reason, field, reason)
			}
			if !s.Equal(&before) {
				t.Errorf("a failed UnmarshalJSON changed the schedule to %v", s)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for m := 0; m <= 1440; m++ {
		s := string(appendClock(nil, m))
		if got, ok := parseClock(s); !ok || got != m {
			t.Errorf("parseClock(%q) = %d, %v; want %d", s, got, ok, m)
		}
	}
	for _, s := range []string{"", "0", "00:0", "000:00", "24:01", "99:99", "00:60", "-1:00", "00 00", "１２:00", "12:00 "} {
		if m, ok := parseClock(s); ok {
			t.Errorf("parseClock(%q) = %d, want an error", s, m)
		}
	}
}
