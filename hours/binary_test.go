package hours

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestBinaryLayout(t *testing.T) {
	s := parse(t, `{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["14:00","02:00"]],"sun":[["00:00","24:00"]]}}`)
	want := []byte{
		3 + 1 + 7 + 4*3, // body length
		3, 'U', 'T', 'C',
		1, 0, 0, 0xa0, 0x05, // sun: 0, 1440
		2, 0x1c, 0x02, 0xd0, 0x02, 0x48, 0x03, 0x18, 0x06, // mon: 540, 720; 840, 1560
		0, 0, 0, 0, 0, // tue..sat
	}
	if got := s.AppendBinary(nil); !bytes.Equal(got, want) {
		t.Errorf("AppendBinary = % x\nwant            % x", got, want)
	}
	var zero Schedule
	if got := zero.AppendBinary([]byte{7}); !bytes.Equal(got, []byte{7, 0}) {
		t.Errorf("zero AppendBinary = % x", got)
	}
}

// TestBinaryRoundTrip decodes a stream of records, as a table file holds.
func TestBinaryRoundTrip(t *testing.T) {
	r := newRand(t)
	var all []Schedule
	var stream []byte
	for i := range 200 {
		var s Schedule
		if i%10 != 0 {
			s = randSchedule(t, r)
		}
		all = append(all, s)
		stream = s.AppendBinary(stream)
	}
	rest := stream
	for i, want := range all {
		got, n, err := DecodeBinary(rest)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if err := got.check(); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !got.Equal(&want) || got.Key() != want.Key() || string(rest[:n]) != want.Key() {
			t.Fatalf("record %d: decoded %v, want %v", i, got, want)
		}
		rest = rest[n:]
	}
	if len(rest) != 0 {
		t.Errorf("%d bytes left", len(rest))
	}
}

func TestDecodeBinaryErrors(t *testing.T) {
	s := parse(t, `{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"]]}}`)
	valid := s.AppendBinary(nil)
	// rebody frames a body with its length.
	rebody := func(body ...byte) []byte {
		return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
	}
	days := func(counts ...byte) []byte { return counts }
	utc := []byte{3, 'U', 'T', 'C'}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	span := func(open, close uint16) []byte {
		return binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, open), close)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"truncated varint", []byte{0x80}, ErrCorrupt},
		{"long varint", []byte{0x80, 0x00}, ErrCorrupt},
		{"overflowing varint", bytes.Repeat([]byte{0xff}, 11), ErrCorrupt},
		{"body longer than input", valid[:len(valid)-1], ErrCorrupt},
		{"huge body length", binary.AppendUvarint(nil, 1<<62), ErrCorrupt},
		{"empty zone", rebody(cat([]byte{0}, days(0, 0, 0, 0, 0, 0, 0))...), ErrCorrupt},
		{"zone past body", rebody(9, 'U', 'T', 'C'), ErrCorrupt},
		{"long zone length", rebody(cat([]byte{0x83, 0x00, 'U', 'T', 'C'}, days(0, 0, 0, 0, 0, 0, 0))...), ErrCorrupt},
		{"missing days", rebody(cat(utc, days(0, 0, 0))...), ErrCorrupt},
		{"missing spans", rebody(cat(utc, days(0, 2), span(0, 60))...), ErrCorrupt},
		{"too many spans", rebody(cat(utc, days(7), bytes.Repeat(span(0, 1), 7), days(0, 0, 0, 0, 0, 0))...), ErrCorrupt},
		{"trailing bytes", rebody(cat(utc, days(0, 0, 0, 0, 0, 0, 0, 0))...), ErrCorrupt},
		{"unknown zone", rebody(cat([]byte{4, 'M', 'a', 'r', 's'}, days(0, 0, 0, 0, 0, 0, 0))...), ErrInvalid},
		{"Local", rebody(cat([]byte{5, 'L', 'o', 'c', 'a', 'l'}, days(0, 0, 0, 0, 0, 0, 0))...), ErrInvalid},
		{"open out of range", rebody(cat(utc, days(1), span(1440, 1500), days(0, 0, 0, 0, 0, 0))...), ErrInvalid},
		{"close before open", rebody(cat(utc, days(0, 1), span(600, 599), days(0, 0, 0, 0, 0))...), ErrInvalid},
		{"overlap", rebody(cat(utc, days(2), span(600, 700), span(650, 800), days(0, 0, 0, 0, 0, 0))...), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n, err := DecodeBinary(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeBinary(% x) = %v, %d, %v; want %v", tt.b, s, n, err, tt.want)
			}
			if n != 0 || s.Known() {
				t.Errorf("DecodeBinary failed but returned %v, %d", s, n)
			}
		})
	}
	// The framing of a valid record, to show the cases above differ from it
	// only where they say.
	if _, _, err := DecodeBinary(rebody(cat(utc, days(0, 1), span(540, 720), days(0, 0, 0, 0, 0))...)); err != nil {
		t.Errorf("valid body: %v", err)
	}
}
