package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
)

// FeedSlack bounds how long a write may take between stamping updated_at
// and committing. Writers stamp with clock_timestamp() in the statement
// that changes the row, and every write to businesses is one short
// statement (or a short transaction), so a few milliseconds is typical; the
// bound leaves three orders of magnitude of room.
//
// It is what makes the (updated_at, id) change feed complete: a change that
// was not yet visible when a reader saw a row stamped T commits after that
// row, so it carries a stamp after T - FeedSlack. A seed's follower that
// starts at the seed's watermark minus FeedSlack misses nothing. A follower
// that reads the feed in passes of several pages must not start its next
// pass later than FeedHead, read before the pass, minus FeedSlack: a change
// still invisible when an early page passed its position may commit, behind
// the cursor, while later pages reach stamps more than FeedSlack after it,
// so the pass's newest stamp minus FeedSlack alone can skip it. Starting
// at the earlier of the pass's newest stamp and that head, less FeedSlack,
// misses nothing; so does starting at the head less FeedSlack once the
// pass has read to the end of the feed.
const FeedSlack = 5 * time.Second

// FeedHead returns a time before which every change, less FeedSlack, is
// visible where Changes reads (see FeedSlack): the newest change stamp
// there, or the database's clock when later: on a primary the statement's
// start, on a streaming replica the commit time of the last transaction it
// replayed (1970-01-01 UTC for an empty table on a replica that has
// replayed nothing). Read before a pass over Changes, it bounds where the
// next pass must start; the clock lets a follower move on from a burst of
// rows stamped alike (a bulk import) rather than read it again at every
// pass until the next write.
func (s *BusinessService) FeedHead(ctx context.Context) (time.Time, error) {
	var head time.Time
	if err := s.db.replica.QueryRow(ctx, `SELECT greatest((`+watermarkSQL+`),
		CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_xact_replay_timestamp(), 'epoch') ELSE statement_timestamp() END)`).Scan(&head); err != nil {
		return time.Time{}, translate(err, "feed head")
	}
	return head.UTC(), nil
}

// Changes returns up to limit changes after the position (after, afterID)
// in (updated_at, id) order, deletions included, read from the replica:
// each business at most once, in its current state. The last change's
// (UpdatedAt, ID) is the position of the next page. See FeedSlack for where
// a follower must start. Changes carry the attributes; the changes of one
// page with the same hours share one *hours.Schedule.
func (s *BusinessService) Changes(ctx context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	if limit < 1 {
		return nil, nearby.InvalidParams([]nearby.InvalidParam{{Name: "limit", Reason: "must be positive"}})
	}
	rows, err := s.db.replica.Query(ctx, `SELECT `+businessColumns+`, version, updated_at, deleted_at IS NOT NULL
		FROM businesses WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3`, after, afterID, limit)
	if err != nil {
		return nil, translate(err, "changed businesses")
	}
	schedules := newScheduleCache()
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (nearby.Change, error) {
		var c nearby.Change
		var err error
		c.Business, err = scanBusiness(row, schedules, &c.Version, &c.UpdatedAt, &c.Deleted)
		c.UpdatedAt = c.UpdatedAt.UTC()
		return c, err
	})
	return cs, translate(err, "changed businesses")
}

// watermarkSQL is a snapshot's watermark: the newest change stamp it holds.
// Every change the snapshot lacks carries a later stamp, less FeedSlack.
const watermarkSQL = `SELECT coalesce(max(updated_at), 'epoch') FROM businesses`
