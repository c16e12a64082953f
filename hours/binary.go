package hours

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// AppendBinary appends the canonical binary encoding of s (see the package
// documentation) to dst and returns the extended slice.
func (s *Schedule) AppendBinary(dst []byte) []byte {
	if !s.Known() {
		return append(dst, 0)
	}
	n := uvarintLen(uint64(len(s.zone))) + len(s.zone) + 7 + 4*len(s.spans)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(len(s.zone)))
	dst = append(dst, s.zone...)
	for d := range dayKeys {
		spans := s.spans[s.start[d]:s.start[d+1]]
		dst = append(dst, byte(len(spans)))
		for _, sp := range spans {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(sp.Open))
			dst = binary.LittleEndian.AppendUint16(dst, uint16(sp.Close))
		}
	}
	return dst
}

// DecodeBinary decodes the schedule at the start of b and returns it with
// the number of bytes it used. Malformed bytes (truncated, a varint not in
// its shortest form, a span count above MaxSpans, bytes left in the body)
// give an error wrapping ErrCorrupt; a well-formed encoding of a schedule
// that breaks a rule, such as a time zone this machine's tz database lacks,
// gives an *Error. Only what b holds is allocated.
func DecodeBinary(b []byte) (Schedule, int, error) {
	n, k, err := uvarint(b)
	if err != nil {
		return Schedule{}, 0, err
	}
	if n > uint64(len(b)-k) {
		return Schedule{}, 0, fmt.Errorf("%w: body of %d bytes, %d left", ErrCorrupt, n, len(b)-k)
	}
	used := k + int(n)
	body := b[k:used]
	if len(body) == 0 {
		return Schedule{}, used, nil // hours unknown
	}
	zl, k, err := uvarint(body)
	if err != nil {
		return Schedule{}, 0, err
	}
	if zl == 0 || zl > uint64(len(body)-k) {
		return Schedule{}, 0, fmt.Errorf("%w: time zone of %d bytes in a body of %d", ErrCorrupt, zl, len(body))
	}
	zone := string(body[k : k+int(zl)])
	body = body[k+int(zl):]
	var week [7][]Span
	spans := make([]Span, 0, len(body)/4) // room for every span body can hold
	for d := range week {
		if len(body) == 0 {
			return Schedule{}, 0, fmt.Errorf("%w: truncated before %s", ErrCorrupt, dayKeys[d])
		}
		c := int(body[0])
		body = body[1:]
		if c > MaxSpans || 4*c > len(body) {
			return Schedule{}, 0, fmt.Errorf("%w: %d spans on %s", ErrCorrupt, c, dayKeys[d])
		}
		first := len(spans)
		for range c {
			open := binary.LittleEndian.Uint16(body)
			close := binary.LittleEndian.Uint16(body[2:])
			spans = append(spans, Span{int(open), int(close)})
			body = body[4:]
		}
		week[d] = spans[first:len(spans):len(spans)]
	}
	if len(body) != 0 {
		return Schedule{}, 0, fmt.Errorf("%w: %d bytes after the spans", ErrCorrupt, len(body))
	}
	s, err := New(zone, week)
	if err != nil {
		return Schedule{}, 0, err
	}
	return s, used, nil
}

// uvarint reads a varint in its shortest form, the only one AppendUvarint
// writes, so that every schedule has exactly one encoding.
func uvarint(b []byte) (v uint64, n int, err error) {
	v, n = binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	if n != uvarintLen(v) {
		return 0, 0, fmt.Errorf("%w: varint not in its shortest form", ErrCorrupt)
	}
	return v, n, nil
}

func uvarintLen(v uint64) int {
	return (bits.Len64(v|1) + 6) / 7
}
