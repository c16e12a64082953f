package postgres

import (
	"context"
	"testing"

	"github.com/nearby/nearby"
)

func TestDetail(t *testing.T) {
	ctx := context.Background()
	s, _ := sharedService(t)
	owner := newOwner()
	rec, _, err := s.Create(ctx, owner, "", input("Detail cafe"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Detail(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != rec.ID || got.OwnerID != owner || got.Name != "Detail cafe" || got.Description != "Coffee." ||
		len(got.Photos) != 1 || got.Version != 1 || !got.UpdatedAt.Equal(rec.UpdatedAt) {
		t.Errorf("Detail = %+v, want %+v", got, rec)
	}
	if err := s.Delete(ctx, owner, rec.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.Detail(ctx, rec.ID)
	wantCode(t, err, nearby.ENOTFOUND)
	_, err = s.Detail(ctx, 1<<62)
	wantCode(t, err, nearby.ENOTFOUND)
	_, err = s.Detail(ctx, 0)
	wantCode(t, err, nearby.ENOTFOUND)
}
