package hours

// Table collects distinct schedules and tags them: tag t > 0 is
// Schedules[t-1], 0 is "unknown". A schedule already in the table is found
// by pointer without comparing; equal ones at other addresses share its tag
// too. Memory grows with the distinct schedules only.
type Table struct {
	Schedules []*Schedule
	byPtr     map[*Schedule]uint32
	byKey     map[string]uint32
}

// Tag returns s's tag, adding s to the table if it is new.
func (t *Table) Tag(s *Schedule) uint32 {
	if s == nil || !s.Known() {
		return 0
	}
	if tag, ok := t.byPtr[s]; ok {
		return tag
	}
	if t.byPtr == nil {
		t.byPtr, t.byKey = map[*Schedule]uint32{}, map[string]uint32{}
	}
	key := s.Key()
	tag, ok := t.byKey[key]
	if !ok {
		t.Schedules = append(t.Schedules, s)
		tag = uint32(len(t.Schedules))
		t.byKey[key] = tag
		// Only the first pointer of each schedule is remembered, so a
		// source that makes a new Schedule per business does not grow the
		// table beyond its distinct schedules (it pays a Key instead).
		t.byPtr[s] = tag
	}
	return tag
}
