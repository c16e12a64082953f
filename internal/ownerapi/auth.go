package ownerapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nearby/nearby"
)

// Bearer tokens are JWTs (RFC 7519) signed with HS256 and a shared secret.
// The owner is the sub claim, a positive decimal integer; exp is required
// and enforced without leeway; iat and nbf are checked when present, with
// ClockSkew of leeway. Other algorithms, "none" included, are refused.

// ClockSkew is how far in the future a token's iat and nbf may be. The
// token issuer's clock and this server's differ a little, and iat is in
// whole seconds: without leeway a token used as soon as it is issued would
// be refused ("not valid yet") whenever the issuer's clock is ahead, even
// by a fraction of a second. exp gets none: a token never outlives it.
const ClockSkew = 30 * time.Second

// Authenticator checks bearer tokens. It is safe for concurrent use.
type Authenticator struct {
	secret []byte
	parser *jwt.Parser // checks iat and nbf with ClockSkew, and exp with it too
	now    func() time.Time
}

// NewAuthenticator returns an authenticator for tokens signed with secret,
// judging expiry by now (nil: time.Now).
func NewAuthenticator(secret []byte, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	// The parser's leeway applies to exp as well: Owner checks exp again
	// without it.
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(ClockSkew),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(now),
	)
	return &Authenticator{secret: secret, parser: parser, now: now}
}

// Owner returns the owner a token names, or an EUNAUTHORIZED error saying
// why the token is refused.
func (a *Authenticator) Owner(token string) (int64, error) {
	var claims jwt.RegisteredClaims
	_, err := a.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return a.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return 0, nearby.Errorf(nearby.EUNAUTHORIZED, "bearer token expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return 0, nearby.Errorf(nearby.EUNAUTHORIZED, "bearer token has no expiry (exp)")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return 0, nearby.Errorf(nearby.EUNAUTHORIZED, "bearer token not valid yet")
	case err != nil:
		return 0, nearby.Errorf(nearby.EUNAUTHORIZED, "invalid bearer token")
	case !a.now().Before(claims.ExpiresAt.Time): // exp without the leeway
		return 0, nearby.Errorf(nearby.EUNAUTHORIZED, "bearer token expired")
	}
	owner, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || owner <= 0 || strconv.FormatInt(owner, 10) != claims.Subject {
		return 0, nearby.Errorf(nearby.EUNAUTHORIZED, "bearer token subject (sub) is not an owner id")
	}
	return owner, nil
}

// IssueToken returns a token for owner, valid from now for ttl, signed with
// secret.
func IssueToken(secret []byte, owner int64, ttl time.Duration, now time.Time) (string, error) {
	if owner <= 0 {
		return "", errors.New("owner id must be positive")
	}
	if ttl <= 0 {
		return "", errors.New("ttl must be positive")
	}
	if len(secret) == 0 {
		return "", errors.New("no signing secret")
	}
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(owner, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// authed wraps a handler of an owner's request: it authenticates the
// request's bearer token and passes the owner on.
func (s *Server) authed(h func(w http.ResponseWriter, r *http.Request, owner int64) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nearby.Errorf(nearby.EUNAUTHORIZED, "an Authorization: Bearer <token> header is required")
		}
		owner, err := s.auth.Owner(token)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="owner-api", error="invalid_token", error_description="`+nearby.ErrorMessage(err)+`"`)
			return err
		}
		if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
			info.owner = owner
		}
		return h(w, r, owner)
	}
}
