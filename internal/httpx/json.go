package httpx

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers status with v as JSON (encoding/json), as
// application/json unless the handler set another content type. An error
// writing it is a WriteError.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	return Write(w, append(data, '\n'))
}

// Write writes an answer's body to w. Its error, if any, is a WriteError.
func Write(w http.ResponseWriter, body []byte) error {
	if _, err := w.Write(body); err != nil {
		return &WriteError{Err: err}
	}
	return nil
}

// WriteError is a failure to write an answer that has begun: its status
// line may have gone out, so no problem document can follow, and the cause
// is the client's connection (gone, reset, or too slow to read), not the
// server. Handlers' adapters log it at debug level and write nothing more.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing the answer: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// NotHeldHeader marks a node's 404 for a business it looked for and does
// not hold (the internal shard lookup), as against a 404 for a route it
// does not serve: only the first is a definitive answer for a cluster.
const NotHeldHeader = "Nearby-Not-Held"
