package nearby

import "context"

// DetailService gives searchers the full record of a business: the details
// page behind a search result.
type DetailService interface {
	// Detail returns the live business with the id, whoever owns it, or an
	// ENOTFOUND error (deleted businesses included). Only the public fields
	// are guaranteed to be set: OwnerID, CreatedAt and DeletedAt may be
	// zero. The record may be shared with other callers: do not modify it.
	Detail(ctx context.Context, id int64) (*BusinessRecord, error)
}
