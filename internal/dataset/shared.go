package dataset

import (
	"sync"
	"weak"
)

// shared builds a value on first use and shares it with every later user
// for as long as one of them holds it; it keeps only a weak pointer itself,
// so once the last user lets go the garbage collector takes the value back,
// and the next use builds it again. The embedded cities and the world drawn
// from them are some 12 MB in about 100,000 small objects: kept for the life
// of the process (searchd generates its demo data once, then serves it), the
// collector would trace them on every cycle, tripling the cost of marking
// searchd's heap.
type shared[T any] struct {
	build func() (*T, error)
	mu    sync.Mutex
	p     weak.Pointer[T]
}

// get returns the value, building it if no one holds it.
func (s *shared[T]) get() (*T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.p.Value(); v != nil {
		return v, nil
	}
	v, err := s.build()
	if err != nil {
		return nil, err
	}
	s.p = weak.Make(v)
	return v, nil
}
