package httpx

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers status with v as JSON (encoding/json), as
// application/json unless the handler set another content type.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, err = w.Write(append(data, '\n'))
	return err
}
