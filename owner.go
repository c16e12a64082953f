package nearby

import (
	"context"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nearby/nearby/hours"
)

// EKEYREUSED is the error code of a create whose idempotency key was already
// used by the same owner for a different request. It is not a conflict with
// the resource's state (ECONFLICT) but a client bug: the HTTP layer answers
// 422, as the IETF Idempotency-Key draft asks.
const EKEYREUSED = "idempotency_key_reused"

// Limits of a business record. Lengths in characters count Unicode code
// points; the description is limited in bytes of UTF-8.
const (
	MaxNameChars        = 200
	MaxAddressChars     = 200
	MaxCityChars        = 100
	MaxStateChars       = 100
	MaxZipChars         = 20
	MaxDescriptionBytes = 5120
	MaxPhotos           = 20
	MaxPhotoURLBytes    = 2048
	MaxIdempotencyKey   = 255       // bytes of printable ASCII
	MaxReviewCount      = 1<<31 - 1 // the largest PostgreSQL integer
)

// BusinessRecord is a business as its owner and the database see it: the
// whole record, of which Business is the searchable summary. Coordinates are
// WGS84 degrees rounded to 1e-7° (about 1 cm), as the index holds them.
// Optional text fields are "" when not given; Photos is never nil in a
// record read from a store.
type BusinessRecord struct {
	ID       int64
	OwnerID  int64
	Name     string
	Category Category
	Lat, Lon float64

	Address, City, State string
	Country              string // ISO 3166-1 alpha-2, upper case, or ""
	Zip                  string
	Description          string
	Photos               []string // absolute http(s) URLs

	Price       Price           // 0 when not set
	Rating      Rating          // Unrated when not rated
	ReviewCount uint32          // reviews the rating averages
	Hours       *hours.Schedule // opening hours; nil when not known

	// Version starts at 1 and grows by one with every change, deletion
	// included. It is the record's entity tag: a replace, patch or delete
	// names the version it was based on and fails if it is not current.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time  // time of the last change, deletion included
	DeletedAt *time.Time // nil while the business is live
}

// Business returns the searchable summary of r.
func (r *BusinessRecord) Business() Business {
	return Business{ID: r.ID, Name: r.Name, Category: r.Category, Lat: r.Lat, Lon: r.Lon,
		Price: r.Price, Rating: r.Rating, ReviewCount: r.ReviewCount, Hours: r.Hours}
}

// BusinessInput is what an owner sends to create, replace or patch a
// business. A nil field was not sent. On create and replace, nil optional
// fields mean "empty" and the required fields (Name, Category, Lat, Lon) must
// be set; on patch, nil fields are left as they are and a set field replaces
// the stored value (an empty string, an empty Photos slice, a Price of 0,
// Unrated, a ReviewCount of 0 or the zero hours.Schedule clears it).
//
// Owners set the rating and review count themselves: this service has no
// review system, so they are whatever the owner reports (typically copied
// from a review site).
type BusinessInput struct {
	Name        *string
	Category    *Category
	Lat, Lon    *float64 // degrees; rounded to 1e-7° when applied
	Address     *string
	City        *string
	State       *string
	Country     *string
	Zip         *string
	Description *string
	Photos      *[]string
	Price       *Price          // 1 to 4; 0 clears
	Rating      *Rating         // Unrated clears
	ReviewCount *uint32         // at most MaxReviewCount
	Hours       *hours.Schedule // the zero Schedule clears; valid by construction
}

// BusinessFields are the wire names of the fields of BusinessInput, in
// documented order. Validation errors name fields by these names.
var BusinessFields = []string{
	"name", "category", "lat", "lon", "address", "city", "state", "country", "zip", "description", "photos",
	"price", "rating", "review_count", "hours",
}

// Validate checks every field of in that is set and, when full is true (a
// create or a replace), that the required fields are set. It returns an
// EINVALID error naming every bad field once, in BusinessFields order.
func (in *BusinessInput) Validate(full bool) error {
	var bad []InvalidParam
	add := func(name, reason string) { bad = append(bad, InvalidParam{Name: name, Reason: reason}) }
	required := func(name string, set bool) bool {
		if !set && full {
			add(name, "required")
		}
		return set
	}
	if required("name", in.Name != nil) {
		if r := checkName(*in.Name); r != "" {
			add("name", r)
		}
	}
	if required("category", in.Category != nil) && !in.Category.Valid() {
		add("category", "unknown category; one of: "+strings.Join(categoryNames[:], ", "))
	}
	if required("lat", in.Lat != nil) && !(*in.Lat >= -90 && *in.Lat <= 90) {
		add("lat", "must be a number in [-90, 90]")
	}
	if required("lon", in.Lon != nil) && !(*in.Lon >= -180 && *in.Lon <= 180) {
		add("lon", "must be a number in [-180, 180]")
	}
	for _, f := range []struct {
		name  string
		v     *string
		chars int
	}{
		{"address", in.Address, MaxAddressChars},
		{"city", in.City, MaxCityChars},
		{"state", in.State, MaxStateChars},
		{"zip", in.Zip, MaxZipChars},
	} {
		if f.v != nil {
			if r := checkLine(*f.v, f.chars); r != "" {
				add(f.name, r)
			}
		}
	}
	if in.Country != nil && *in.Country != "" && !ValidCountry(*in.Country) {
		add("country", "must be an ISO 3166-1 alpha-2 code in upper case, such as US or DE")
	}
	if in.Description != nil {
		if r := checkDescription(*in.Description); r != "" {
			add("description", r)
		}
	}
	if in.Photos != nil {
		if r := checkPhotos(*in.Photos); r != "" {
			add("photos", r)
		}
	}
	if in.Price != nil && !in.Price.Valid() {
		add("price", "must be a price level from 1 to "+strconv.Itoa(int(MaxPrice)))
	}
	if in.Rating != nil && !in.Rating.Valid() {
		add("rating", "must be 0 to 5 stars with at most one decimal")
	}
	if in.ReviewCount != nil && *in.ReviewCount > MaxReviewCount {
		add("review_count", "must be an integer from 0 to "+strconv.Itoa(MaxReviewCount))
	}
	slices.SortStableFunc(bad, func(a, b InvalidParam) int {
		return slices.Index(BusinessFields, a.Name) - slices.Index(BusinessFields, b.Name)
	})
	return InvalidParams(bad)
}

// Apply copies the fields of in that are set onto r, rounding coordinates to
// 1e-7° as the index stores them, and copying Photos. Hours are shared, not
// copied (schedules are immutable); the zero Schedule sets r.Hours to nil. It
// does not validate.
func (in *BusinessInput) Apply(r *BusinessRecord) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&r.Name, in.Name)
	if in.Category != nil {
		r.Category = *in.Category
	}
	if in.Lat != nil {
		r.Lat = RoundE7(*in.Lat)
	}
	if in.Lon != nil {
		r.Lon = RoundE7(*in.Lon)
	}
	set(&r.Address, in.Address)
	set(&r.City, in.City)
	set(&r.State, in.State)
	set(&r.Country, in.Country)
	set(&r.Zip, in.Zip)
	set(&r.Description, in.Description)
	if in.Photos != nil {
		r.Photos = append([]string{}, *in.Photos...)
	}
	if r.Photos == nil {
		r.Photos = []string{}
	}
	if in.Price != nil {
		r.Price = *in.Price
	}
	if in.Rating != nil {
		r.Rating = *in.Rating
	}
	if in.ReviewCount != nil {
		r.ReviewCount = *in.ReviewCount
	}
	if in.Hours != nil {
		r.Hours = nil
		if in.Hours.Known() {
			r.Hours = in.Hours
		}
	}
}

// Validate checks a whole record's owner-editable fields, as a store does
// before writing it: the same rules as BusinessInput.Validate(true).
func (r *BusinessRecord) Validate() error {
	in := BusinessInput{
		Name: &r.Name, Category: &r.Category, Lat: &r.Lat, Lon: &r.Lon,
		Address: &r.Address, City: &r.City, State: &r.State, Country: &r.Country, Zip: &r.Zip,
		Description: &r.Description, Photos: &r.Photos,
		Price: &r.Price, Rating: &r.Rating, ReviewCount: &r.ReviewCount, Hours: r.Hours,
	}
	return in.Validate(true)
}

// RoundE7 rounds degrees to 1e-7°, the resolution of stored coordinates:
// exactly what the index's fixed-point conversion gives back.
func RoundE7(deg float64) float64 {
	if math.IsNaN(deg) || math.IsInf(deg, 0) {
		return deg
	}
	return float64(int64(math.Round(deg*1e7))) / 1e7
}

func checkName(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.TrimSpace(s) == "":
		return "must not be empty or blank"
	case utf8.RuneCountInString(s) > MaxNameChars:
		return "must be at most " + strconv.Itoa(MaxNameChars) + " characters"
	case strings.IndexFunc(s, notInLine) >= 0:
		return "must not contain control characters or line separators"
	}
	return ""
}

// notInLine reports whether r may not stand in one line of text: control
// characters, and the line and paragraph separators, which are not
// controls but break lines all the same.
func notInLine(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }

// checkLine checks a one-line optional text field.
func checkLine(s string, maxChars int) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > maxChars:
		return "must be at most " + strconv.Itoa(maxChars) + " characters"
	case strings.IndexFunc(s, notInLine) >= 0:
		return "must not contain control characters or line separators"
	}
	return ""
}

func checkDescription(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case len(s) > MaxDescriptionBytes:
		return "must be at most " + strconv.Itoa(MaxDescriptionBytes) + " bytes of UTF-8"
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0:
		return "must not contain control characters other than tab and line breaks"
	}
	return ""
}

func checkPhotos(urls []string) string {
	if len(urls) > MaxPhotos {
		return "at most " + strconv.Itoa(MaxPhotos) + " photos"
	}
	for i, s := range urls {
		if !ValidPhotoURL(s) {
			return "photos[" + strconv.Itoa(i) + "]: must be an absolute http or https URL of at most " +
				strconv.Itoa(MaxPhotoURLBytes) + " bytes, with a host and no spaces or credentials"
		}
	}
	return ""
}

// ValidPhotoURL reports whether s is acceptable as a photo URL: an absolute
// http or https URL (scheme in any case) with a host, no user information,
// no spaces or control characters, at most MaxPhotoURLBytes long. URLs are
// stored as given.
func ValidPhotoURL(s string) bool {
	if len(s) == 0 || len(s) > MaxPhotoURLBytes || !utf8.ValidString(s) ||
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil {
		return false
	}
	return u.Hostname() != "" && strings.HasPrefix(strings.ToLower(s), u.Scheme+"://")
}

// ValidCountry reports whether s is an ISO 3166-1 alpha-2 country code,
// officially assigned, in upper case; XK (Kosovo, user-assigned but used by
// GeoNames and the EU) is accepted too.
func ValidCountry(s string) bool {
	if len(s) != 2 {
		return false
	}
	_, ok := slices.BinarySearch(countryCodes, s)
	return ok
}

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes plus XK,
// sorted.
var countryCodes = strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
XK
YE YT
ZA ZM ZW`)

// ValidIdempotencyKey reports whether k can be an idempotency key: 1 to
// MaxIdempotencyKey bytes of printable ASCII (space through tilde).
func ValidIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := range len(k) {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// OwnerService is the write path: owners manage their own businesses. Every
// method is scoped to one owner: another owner's business, like a deleted
// one, is ENOTFOUND, so its existence is not revealed. A version argument is
// the version the caller based its change on; 0 means "whatever is
// current". A version that is not current is an EPRECONDITION error.
type OwnerService interface {
	// Create validates in (all required fields set) and stores a new
	// business of ownerID, returning the stored record. With a non-empty
	// idempotency key, a repeated create with the same key and the same
	// input returns the first create's record with replayed true and stores
	// nothing; the same key with a different input is an EKEYREUSED error.
	Create(ctx context.Context, ownerID int64, idempotencyKey string, in BusinessInput) (rec *BusinessRecord, replayed bool, err error)
	// Get returns the owner's live business with the id.
	Get(ctx context.Context, ownerID, id int64) (*BusinessRecord, error)
	// List returns up to limit of the owner's live businesses with ids
	// greater than afterID, by ascending id, and the afterID of the next
	// page (0 when there is none).
	List(ctx context.Context, ownerID, afterID int64, limit int) (recs []*BusinessRecord, next int64, err error)
	// Replace replaces every owner-editable field with in (all required
	// fields set; optional fields not set are cleared).
	Replace(ctx context.Context, ownerID, id, version int64, in BusinessInput) (*BusinessRecord, error)
	// Patch changes the fields of in that are set and keeps the others.
	Patch(ctx context.Context, ownerID, id, version int64, in BusinessInput) (*BusinessRecord, error)
	// Delete soft-deletes the business: it disappears for the owner and
	// from search, and its row is purged later.
	Delete(ctx context.Context, ownerID, id, version int64) error
}
