package nearby

import (
	"errors"
	"fmt"
	"testing"
)

// TestErrorMessageHidesInternals: an internal error's message is for the
// logs; the client reads "internal error", whether the error is a plain one
// or an *Error coded EINTERNAL (a recovered panic, a corrupt index).
func TestErrorMessageHidesInternals(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("dial tcp 10.0.0.5:5432: refused"), "internal error"},
		{Errorf(EINTERNAL, "reading business 7: panic: runtime error: index out of range"), "internal error"},
		{fmt.Errorf("wrapped: %w", Errorf(EINTERNAL, "density in region eu: bad node 12")), "internal error"},
		{Errorf(ENOTFOUND, "business 7 not found"), "business 7 not found"},
		{fmt.Errorf("%w: %w", Errorf(EUNAVAILABLE, "the database is not reachable"), errors.New("dial tcp")), "the database is not reachable"},
	} {
		if got := ErrorMessage(tc.err); got != tc.want {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
