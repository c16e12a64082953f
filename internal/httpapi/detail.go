package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/httpx"
)

// detailJSON is a business's public record as searchers see it.
type detailJSON struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	Address     string          `json:"address"`
	City        string          `json:"city"`
	State       string          `json:"state"`
	Country     string          `json:"country"`
	Zip         string          `json:"zip"`
	Description string          `json:"description"`
	Photos      []string        `json:"photos"`
	Price       *int            `json:"price"`
	Rating      *float64        `json:"rating"`
	ReviewCount uint32          `json:"review_count"`
	Hours       *hours.Schedule `json:"hours"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// businessDetail answers GET /v1/businesses/{id} with the full record when
// the server has a detail service, else with the index's summary.
func (s *Server) businessDetail(w http.ResponseWriter, r *http.Request) error {
	if s.details == nil {
		return s.business(w, r)
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return nearby.InvalidParams([]nearby.InvalidParam{{Name: "id", Reason: "must be a positive decimal integer"}})
	}
	rec, err := s.details.Detail(r.Context(), id)
	if err != nil {
		return err
	}
	photos := rec.Photos
	if photos == nil {
		photos = []string{}
	}
	d := detailJSON{
		ID: strconv.FormatInt(rec.ID, 10), Name: rec.Name, Category: rec.Category.String(), Lat: rec.Lat, Lon: rec.Lon,
		Address: rec.Address, City: rec.City, State: rec.State, Country: rec.Country, Zip: rec.Zip,
		Description: rec.Description, Photos: photos, ReviewCount: rec.ReviewCount, Hours: rec.Hours,
		UpdatedAt: rec.UpdatedAt.UTC(),
	}
	if rec.Price != 0 {
		p := int(rec.Price)
		d.Price = &p
	}
	if rec.Rating.Rated() {
		r := rec.Rating.Stars()
		d.Rating = &r
	}
	return httpx.WriteJSON(w, http.StatusOK, d)
}
