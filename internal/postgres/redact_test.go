package postgres

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:secret@h/db?password=other",
		"host=h password=secret dbname=x",
		"postgres://u@h/db?sslmode=disable&password=secret",
	} {
		got := Redact(dsn)
		if strings.Contains(got, "secret") || strings.Contains(got, "other") || !strings.Contains(got, "h") {
			t.Errorf("Redact(%q) = %q", dsn, got)
		}
	}
	if got := Redact(""); got != "" {
		t.Errorf("Redact(\"\") = %q", got)
	}
}
