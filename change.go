package nearby

import "time"

// Change is a business's state after a committed write, as a change feed
// delivers it: its searchable summary, or its deletion.
type Change struct {
	Business            // the state after the write; only ID is meaningful when Deleted
	Version   int64     // the record's version after the write; grows with every write
	UpdatedAt time.Time // the write's time stamp, by which the feed is ordered
	Deleted   bool
}
