package hours

import (
	"testing"
	"time"
)

func BenchmarkOpenAt(b *testing.B) {
	for _, doc := range []struct{ name, json string }{
		{"zone=UTC/spans=2", `{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[["09:00","12:00"],["14:00","18:30"]]}}`},
		{"zone=America/New_York/spans=2", `{"time_zone":"America/New_York","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[["09:00","12:00"],["14:00","18:30"]]}}`},
		{"zone=Europe/Paris/spans=6+tail", `{"time_zone":"Europe/Paris","weekly":{"mon":[["01:00","02:00"],["03:00","04:00"],["05:00","06:00"],["07:00","08:00"],["09:00","10:00"],["11:00","03:00"]],"tue":[["09:00","12:00"]]}}`},
	} {
		b.Run(doc.name, func(b *testing.B) {
			s := parse(b, doc.json)
			at := time.Date(2026, 6, 2, 10, 30, 0, 0, time.UTC) // a Tuesday
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				if s.OpenAt(at) {
					n++
				}
				at = at.Add(7 * time.Minute)
			}
			if n == 0 {
				b.Fatal("never open")
			}
		})
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	s := parse(b, `{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[["09:00","12:00"],["14:00","18:30"]],"wed":[["09:00","12:00"],["14:00","18:30"]],"fri":[["22:00","02:00"]]}}`)
	enc := s.AppendBinary(nil)
	b.ReportAllocs()
	b.ReportMetric(float64(len(enc)), "bytes/schedule")
	for b.Loop() {
		if _, n, err := DecodeBinary(enc); err != nil || n != len(enc) {
			b.Fatal(n, err)
		}
	}
}
