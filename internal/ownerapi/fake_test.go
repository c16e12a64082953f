package ownerapi

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nearby/nearby"
)

// fakeService is an in-memory nearby.OwnerService for handler tests; the
// real store is tested in internal/postgres and end to end in
// cmd/owner-api. err, when set, is returned by every method.
type fakeService struct {
	mu   sync.Mutex
	recs map[int64]*nearby.BusinessRecord
	keys map[fakeKey]*nearby.BusinessRecord // per owner, as in the real store
	last int64
	err  error
}

var _ nearby.OwnerService = (*fakeService)(nil)

type fakeKey struct {
	owner int64
	key   string
}

func newFake() *fakeService {
	return &fakeService{recs: map[int64]*nearby.BusinessRecord{}, keys: map[fakeKey]*nearby.BusinessRecord{}}
}

func clone(r *nearby.BusinessRecord) *nearby.BusinessRecord {
	c := *r
	c.Photos = slices.Clone(r.Photos)
	return &c
}

func (f *fakeService) Create(ctx context.Context, owner int64, key string, in nearby.BusinessInput) (*nearby.BusinessRecord, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, false, f.err
	}
	if err := in.Validate(true); err != nil {
		return nil, false, err
	}
	r := &nearby.BusinessRecord{OwnerID: owner, Version: 1}
	in.Apply(r)
	if prev, ok := f.keys[fakeKey{owner, key}]; key != "" && ok {
		p := clone(prev)
		r.ID, r.CreatedAt, r.UpdatedAt = p.ID, p.CreatedAt, p.UpdatedAt
		if !sameFields(p, r) {
			return nil, false, nearby.Errorf(nearby.EKEYREUSED, "key reused")
		}
		return p, true, nil
	}
	f.last++
	r.ID = f.last
	r.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.UpdatedAt = r.CreatedAt
	f.recs[r.ID] = r
	if key != "" {
		f.keys[fakeKey{owner, key}] = clone(r)
	}
	return clone(r), false, nil
}

func sameFields(a, b *nearby.BusinessRecord) bool {
	return slices.Equal(a.Photos, b.Photos) && a.Address == b.Address &&
		a.City == b.City && a.State == b.State && a.Country == b.Country && a.Zip == b.Zip && a.Description == b.Description &&
		a.Business().Equal(b.Business())
}

func (f *fakeService) find(owner, id int64) (*nearby.BusinessRecord, error) {
	if f.err != nil {
		return nil, f.err
	}
	r, ok := f.recs[id]
	if !ok || r.OwnerID != owner || r.DeletedAt != nil {
		return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
	}
	return r, nil
}

func (f *fakeService) Get(ctx context.Context, owner, id int64) (*nearby.BusinessRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.find(owner, id)
	if err != nil {
		return nil, err
	}
	return clone(r), nil
}

func (f *fakeService) List(ctx context.Context, owner, after int64, limit int) ([]*nearby.BusinessRecord, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, 0, f.err
	}
	var out []*nearby.BusinessRecord
	for id := after + 1; id <= f.last; id++ {
		if r, err := f.find(owner, id); err == nil {
			if len(out) == limit {
				return out, out[limit-1].ID, nil
			}
			out = append(out, clone(r))
		}
	}
	return out, 0, nil
}

func (f *fakeService) change(owner, id, version int64, full bool, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := in.Validate(full); err != nil {
		return nil, err
	}
	r, err := f.find(owner, id)
	if err != nil {
		return nil, err
	}
	if version != 0 && version != r.Version {
		return nil, nearby.Errorf(nearby.EPRECONDITION, "stale")
	}
	if full {
		*r = nearby.BusinessRecord{ID: r.ID, OwnerID: r.OwnerID, Version: r.Version, CreatedAt: r.CreatedAt}
	}
	in.Apply(r)
	r.Version++
	return clone(r), nil
}

func (f *fakeService) Replace(ctx context.Context, owner, id, version int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	return f.change(owner, id, version, true, in)
}

func (f *fakeService) Patch(ctx context.Context, owner, id, version int64, in nearby.BusinessInput) (*nearby.BusinessRecord, error) {
	return f.change(owner, id, version, false, in)
}

func (f *fakeService) Delete(ctx context.Context, owner, id, version int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.find(owner, id)
	if err != nil {
		return err
	}
	if version != 0 && version != r.Version {
		return nearby.Errorf(nearby.EPRECONDITION, "stale")
	}
	now := time.Now()
	r.DeletedAt = &now
	return nil
}
