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
		// Forms pgx accepts too: spaces around "=", quoted values, escapes.
		"host=h password = secret dbname=x",
		"host=h password= secret",
		"host=h password='my secret' dbname=x",
		`host=h password='it\'s secret' dbname=x`,
		`host=h password=my\ secret dbname=x`,
		"host=h\tpassword=secret\tdbname=x",
		// The passphrase of the client's TLS key is a password too.
		"host=h sslpassword=secret dbname=x",
		"postgres://u@h/db?sslkey=k.pem&sslpassword=secret",
		// A query that does not parse: url.Query drops the pair, which
		// must not leave it in clear.
		"postgres://u@h/db?sslmode=disable&password=top;secret",
		"postgres://u@h/db?sslpassword=top%zzsecret",
		"postgres://u@h/db?password=top#secret",
		// A password holding an unescaped "/" or "?" after digits ends
		// the host early and leaves the rest in the path or query, with
		// no user info to redact.
		"postgres://u:123/secret@h/db",
		"postgres://u:123?secret@h/db",
		"postgresql://:123/secret@h/db",
	} {
		got := Redact(dsn)
		if strings.Contains(got, "secret") || strings.Contains(got, "other") || !strings.Contains(got, "h") {
			t.Errorf("Redact(%q) = %q", dsn, got)
		}
	}
	for dsn, want := range map[string]string{
		// A URL that does not parse as one: nothing of it but the scheme shows.
		"postgres://u:secret%zz@h/db":          "postgres://(redacted: not a valid URL)",
		"":                                     "",
		"host=h dbname=x":                      "host=h dbname=x",
		"host=h password='a b' dbname=x":       "host=h password=xxxxx dbname=x",
		"postgres://u:secret@h:5432/db":        "postgres://u:xxxxx@h:5432/db",
		"host=h application_name='a b' port=1": "host=h application_name='a b' port=1",
	} {
		if got := Redact(dsn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
	}
}
