package hours_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nearby/nearby/hours"
)

func Example() {
	var s hours.Schedule
	doc := `{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"fri":[["22:00","02:00"]]}}`
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		panic(err)
	}
	fmt.Println(s)

	// open_at is judged on the business's wall clock, whatever the offset
	// of the query.
	for _, at := range []string{
		"2026-03-23T12:30:00+01:00", // Monday lunch break in Paris
		"2026-03-23T13:30:00Z",      // Monday 14:30 in Paris
		"2026-03-28T01:30:00+01:00", // Saturday 01:30, after Friday 22:00
		"2026-03-29T01:30:00+01:00", // Sunday 01:30: Saturday has no hours
	} {
		t, _ := time.Parse(time.RFC3339, at)
		fmt.Println(at, s.OpenAt(t))
	}

	var unknown hours.Schedule
	fmt.Println("unknown hours:", unknown.OpenAt(time.Now()))

	out, _ := json.Marshal(s)
	fmt.Println(string(out))
	// Output:
	// Europe/Paris mon 09:00-12:00,14:00-18:30 fri 22:00-02:00
	// 2026-03-23T12:30:00+01:00 false
	// 2026-03-23T13:30:00Z true
	// 2026-03-28T01:30:00+01:00 true
	// 2026-03-29T01:30:00+01:00 false
	// unknown hours: false
	// {"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[],"wed":[],"thu":[],"fri":[["22:00","02:00"]],"sat":[],"sun":[]}}
}

// ExampleError shows how an HTTP layer names the offending parameter.
func ExampleError() {
	var s hours.Schedule
	err := json.Unmarshal([]byte(`{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["11:30","18:00"]]}}`), &s)
	var e *hours.Error
	if errors.As(err, &e) {
		fmt.Printf("field %s: %s (invalid: %v)\n", e.Field, e.Reason, errors.Is(err, hours.ErrInvalid))
	}
	// Output:
	// field weekly.mon[1]: overlaps weekly.mon[0] (invalid: true)
}

// ExampleSchedule_Key keeps one table of distinct schedules and evaluates
// open_now once per schedule, not once per business.
func ExampleSchedule_Key() {
	docs := []string{
		`{"time_zone":"Europe/London","weekly":{"mon":[["09:00","17:00"]]}}`,
		`{"time_zone":"America/New_York","weekly":{"mon":[["09:00","17:00"]]}}`,
		`{"time_zone":"Europe/London","weekly":{"mon":[["09:00","17:00"]],"sun":[]}}`,
	}
	var table []hours.Schedule
	index := map[string]int{} // Key → position in table
	var business []int        // business i has the hours table[business[i]]
	for _, doc := range docs {
		var s hours.Schedule
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			panic(err)
		}
		i, ok := index[s.Key()]
		if !ok {
			i = len(table)
			index[s.Key()] = i
			table = append(table, s)
		}
		business = append(business, i)
	}

	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) // a Monday, 13:00 in London, 08:00 in New York
	open := make([]bool, len(table))
	for i := range table {
		open[i] = table[i].OpenAt(now)
	}
	for id, i := range business {
		fmt.Println(id, table[i].TimeZone(), open[i])
	}
	fmt.Println(len(table), "distinct schedules")
	// Output:
	// 0 Europe/London true
	// 1 America/New_York false
	// 2 Europe/London true
	// 2 distinct schedules
}
