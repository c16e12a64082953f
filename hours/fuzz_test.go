package hours

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

var fuzzDocs = []string{
	`{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[],"fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]]}}`,
	`{"time_zone":"America/New_York","weekly":{"sun":[["22:00","02:00"]],"mon":[["00:00","00:00"]]}}`,
	`{"time_zone":"Australia/Lord_Howe","weekly":{"wed":[["01:00","01:30"],["01:30","02:00"],["02:00","03:00"],["04:00","05:00"],["06:00","07:00"],["23:00","23:00"]]}}`,
	`{"time_zone":"UTC"}`,
	`null`,
	`{}`,
	`{"time_zone":"UTC","weekly":{"mon":[["09:00","24:30"]]}}`,
	`{"time_zone":"Local","weekly":{"mon":[["09:00","17:00"]]}}`,
}

// FuzzUnmarshalJSON checks that any input either fails with an *Error and
// leaves the schedule alone, or gives a valid schedule that survives both
// encodings unchanged.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, doc := range fuzzDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Schedule
		if err := s.UnmarshalJSON(data); err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if s.Known() {
				t.Fatalf("failed UnmarshalJSON set %v", s)
			}
			return
		}
		roundTrip(t, &s)
	})
}

// FuzzDecodeBinary checks that any input either fails with ErrCorrupt or an
// *Error, or decodes to a valid schedule whose encoding is the bytes read.
func FuzzDecodeBinary(f *testing.F) {
	for _, doc := range fuzzDocs[:5] {
		var s Schedule
		if err := s.UnmarshalJSON([]byte(doc)); err != nil {
			f.Fatal(err)
		}
		b := s.AppendBinary(nil)
		f.Add(b)
		f.Add(append(b, 1, 2, 3))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, n, err := DecodeBinary(b)
		if err != nil {
			var e *Error
			if !errors.Is(err, ErrCorrupt) && !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is neither ErrCorrupt nor an *Error", err, err)
			}
			if n != 0 || s.Known() {
				t.Fatalf("failed DecodeBinary returned %v, %d", s, n)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("DecodeBinary used %d of %d bytes", n, len(b))
		}
		if got := s.AppendBinary(nil); !bytes.Equal(got, b[:n]) {
			t.Fatalf("re-encoding gives % x, read % x", got, b[:n])
		}
		roundTrip(t, &s)
	})
}

// roundTrip checks s and that it survives JSON and binary encoding.
func roundTrip(t *testing.T, s *Schedule) {
	t.Helper()
	if err := s.check(); err != nil {
		t.Fatalf("%v: %v", s, err)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Schedule
	if err := json.Unmarshal(js, &fromJSON); err != nil {
		t.Fatalf("Unmarshal(%s): %v", js, err)
	}
	if !fromJSON.Equal(s) {
		t.Fatalf("JSON round trip: %v, want %v", fromJSON, s)
	}
	fromBinary, n, err := DecodeBinary(s.AppendBinary(nil))
	if err != nil || n != len(s.Key()) || !fromBinary.Equal(s) {
		t.Fatalf("binary round trip: %v, %d, %v; want %v", fromBinary, n, err, s)
	}
}
