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

// TestDetailWithUndecodableHours: hours this process cannot decode (a time
// zone missing from its tz database, the schema checks only the shape)
// make a searcher's detail read come back without them, as the search
// index reads them, not fail with an internal error; an owner's read of
// the same row still refuses them, so no update based on it erases them.
func TestDetailWithUndecodableHours(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	var id int64
	if err := db.primary.QueryRow(ctx, `INSERT INTO businesses (owner_id, name, category, lat, lon, geohash, hours)
		VALUES (1, 'Olympus Café', 'cafe', 1, 2, 's00twy01mt00', '{"time_zone":"Mars/Olympus_Mons"}') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Detail(ctx, id)
	if err != nil || rec.Name != "Olympus Café" || rec.Hours != nil {
		t.Fatalf("Detail: %+v, %v; want the record without hours", rec, err)
	}
	if _, err := s.Get(ctx, 1, id); err == nil {
		t.Error("owner's Get of undecodable hours succeeded")
	}
}
