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

// NotHeldHeader marks a node's 404 for a business it looked for and does
// not hold (the internal shard lookup), as against a 404 for a route it
// does not serve: only the first is a definitive answer for a cluster.
const NotHeldHeader = "Nearby-Not-Held"
