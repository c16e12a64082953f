package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
)

var _ nearby.DetailService = (*BusinessService)(nil)

// Detail implements nearby.DetailService for searchers: the live business
// with the id, whoever owns it, read from the replica (which may lag the
// primary; the detail cache makes owners' own writes visible at once).
func (s *BusinessService) Detail(ctx context.Context, id int64) (*nearby.BusinessRecord, error) {
	if id <= 0 {
		return nil, notFound(id)
	}
	rec, err := scanDetail(s.db.replica.QueryRow(ctx, `SELECT `+columns+` FROM businesses
		WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	return rec, translate(err, "business detail")
}
