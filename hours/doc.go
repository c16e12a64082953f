// Package hours models a business's weekly opening hours in its own local
// time and IANA time zone, and answers "is it open at this instant?" for the
// open_now and open_at search filters.
//
// A Schedule is a time zone and, for each weekday, a list of Spans of local
// wall time in minutes since local midnight, half-open: [Open, Close).
//
// Rules:
//   - Time: 0 ≤ Open < 1440 and Open < Close ≤ Open+1440. Close 1440 is
//     midnight at the end of the day; Close > 1440 runs past midnight into the
//     next day (Friday 22:00–02:00 is Span{1320, 1560} on Friday and keeps
//     the business open until 02:00 on Saturday; Sunday's spans run into
//     Monday). A whole day is Span{0, 1440}. A day without spans is closed.
//   - A day has at most MaxSpans spans, sorted by Open and not overlapping
//     (touching is allowed: 12:00–14:00 after 09:00–12:00). The part of a
//     span past midnight may overlap the next day's spans (Friday 22:00–02:00
//     and Saturday 00:00–24:00): OpenAt takes the union. Spans are never
//     merged or reordered, and Equal compares spans, not the hours they mean.
//   - Wall-clock semantics: an instant is converted to the schedule's time
//     zone and open if its local wall time lies in a span of its local
//     weekday, or in the past-midnight part of a span of the previous
//     weekday. On a spring-forward day the skipped wall times do not exist,
//     so a span inside the gap never matches; on a fall-back day both
//     instants showing a repeated wall time are open if that wall time is in
//     a span. Seconds are ignored: 11:59:59 is inside a span closing at
//     12:00.
//   - The zero Schedule means "hours unknown": Known reports false, OpenAt
//     always false (a business with unknown hours never matches open_now),
//     MarshalJSON gives null and AppendBinary a single zero byte. A known
//     schedule with no spans is "always closed".
//   - Time zones are IANA names ("Europe/Paris", "UTC") loaded with
//     time.LoadLocation; "Local", "localtime" (a link to /etc/localtime in
//     some tz databases) and "" are refused, so nothing depends on the
//     server's own zone. Each name is loaded once per process and shared. A
//     program should make sure the tz database exists where it runs (or
//     import time/tzdata in its main package).
//   - New, UnmarshalJSON and DecodeBinary enforce the same rules. Invalid
//     input gives an *Error whose Field is the JSON path of the culprit
//     ("time_zone", "weekly.mon[1]") and which wraps ErrInvalid; malformed
//     binary framing gives an error wrapping ErrCorrupt. Nothing panics,
//     whatever the input.
//   - A Schedule is immutable once built and safe for concurrent use.
//
// JSON form, the API contract of the owner API and of search responses:
//
//	{"time_zone":"Europe/Paris",
//	 "weekly":{"mon":[["09:00","12:00"],["14:00","18:30"]],"tue":[],
//	           "fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]]}}
//
// "time_zone" is required. "weekly" maps the day keys mon, tue, wed, thu,
// fri, sat and sun to lists of ["open", "close"] pairs of "HH:MM" 24-hour
// local times; absent days and [] are closed. "24:00" is allowed as a close
// only. A close at or before the open is on the next day: ["22:00","02:00"]
// runs past midnight, ["18:00","00:00"] ends at midnight and ["09:00","09:00"]
// lasts 24 hours. Unknown keys are errors. MarshalJSON writes all seven days
// in the order mon..sun, and a close at midnight as "24:00".
//
// Binary form, for index and seed files (varints as encoding/binary writes
// them, and only in their shortest form; u16 little-endian):
//
//	uvarint body length | body
//	body: empty (hours unknown), or
//	      uvarint zone length | zone | for each day, Sunday first:
//	      u8 span count | count × (u16 Open, u16 Close)
//
// The encoding is canonical: two schedules are Equal exactly when their
// encodings, and so their Keys, are equal. Many businesses share the same
// hours, so a store keeps one table of distinct schedules, deduplicated by
// Key, and refers to it by index.
//
// OpenAt costs one time-zone lookup and does not allocate. To filter many
// businesses for one query, evaluate it once per distinct schedule in the
// table and reuse the answer for every business that shares it.
package hours
