package hours

import (
	"errors"
	"fmt"
)

// check verifies the invariants of s without trusting New; tests call it
// on every schedule they build or decode.
func (s *Schedule) check() error {
	if s.loc == nil {
		if s.zone != "" || len(s.spans) != 0 || s.start != [8]uint8{} {
			return errors.New("unknown schedule with a zone or spans")
		}
		return nil
	}
	if s.loc.String() != s.zone || s.zone == "" || s.zone == "Local" {
		return fmt.Errorf("zone %q with location %q", s.zone, s.loc)
	}
	if s.start[0] != 0 || int(s.start[7]) != len(s.spans) {
		return fmt.Errorf("day starts %v for %d spans", s.start, len(s.spans))
	}
	for d := range 7 {
		if s.start[d] > s.start[d+1] || s.start[d+1]-s.start[d] > MaxSpans {
			return fmt.Errorf("day starts %v", s.start)
		}
		spans := s.spans[s.start[d]:s.start[d+1]]
		for i, sp := range spans {
			if sp.Open < 0 || sp.Open >= 1440 || sp.Close <= sp.Open || sp.Close > sp.Open+1440 {
				return fmt.Errorf("day %d span %d: %v out of range", d, i, sp)
			}
			if i > 0 && sp.Open < spans[i-1].Close {
				return fmt.Errorf("day %d span %d: %v after %v", d, i, sp, spans[i-1])
			}
		}
	}
	return nil
}
