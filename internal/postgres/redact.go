package postgres

import (
	"net/url"
	"slices"
	"strings"
)

// Redact returns a DSN (URL or key=value form) with any password replaced
// (the user's, and sslpassword, the passphrase of the client's TLS key),
// for logs and messages. It reads a DSN as pgx does: a URL that does not
// parse, or with an "@" outside its user info (an unescaped "/" or "?" in
// a password), shows only its scheme, one whose query does not parse (or with a
// fragment) hides its query whole, and key=value values may be quoted or
// hold escaped spaces, with spaces allowed around "=".
func Redact(dsn string) string {
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && scheme != "" && !strings.ContainsAny(scheme, dsnSpace+"=") {
		u, err := url.Parse(dsn)
		if err != nil {
			return scheme + "://(redacted: not a valid URL)"
		}
		if u.User == nil && strings.Contains(dsn, "@") {
			// A password holding an unescaped "/" or "?" ended the host
			// early: the rest of it is in the path or the query.
			return scheme + "://(redacted: an @ outside the user info)"
		}
		q, err := url.ParseQuery(u.RawQuery)
		switch {
		case err != nil || u.Fragment != "":
			// A pair that does not decode, or a "#" that cut a value:
			// where a password in it ends cannot be told.
			u.RawQuery, u.Fragment, u.RawFragment = "xxxxx", "", ""
		case slices.ContainsFunc(secretKeys, q.Has):
			for _, k := range secretKeys {
				if q.Has(k) {
					q.Set(k, "xxxxx")
				}
			}
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	var out []string
	for s := strings.TrimLeft(dsn, dsnSpace); s != ""; s = strings.TrimLeft(s, dsnSpace) {
		eq := strings.IndexByte(s, '=')
		if eq < 0 { // not key=value: pgx refuses it, and it may be a password
			out = append(out, "xxxxx")
			break
		}
		key := strings.Trim(s[:eq], dsnSpace)
		s = strings.TrimLeft(s[eq+1:], dsnSpace)
		end := valueEnd(s)
		val := s[:end]
		s = s[end:]
		if f := strings.Fields(key); len(f) > 0 && slices.Contains(secretKeys, f[len(f)-1]) {
			val = "xxxxx"
		}
		out = append(out, key+"="+val)
	}
	return strings.Join(out, " ")
}

// secretKeys are the DSN parameters whose values are secrets.
var secretKeys = []string{"password", "sslpassword"}

// dsnSpace are the characters that separate key=value pairs.
const dsnSpace = " \t\n\r\v\f"

// valueEnd returns the length of the value at the start of s: a quoted one
// up to its closing quote, another up to the next space; a backslash
// escapes the character after it.
func valueEnd(s string) int {
	quoted := strings.HasPrefix(s, "'")
	i := 0
	if quoted {
		i = 1
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case quoted && c == '\'':
			return i + 1
		case !quoted && strings.IndexByte(dsnSpace, c) >= 0:
			return i
		}
	}
	return len(s)
}
