package httpx

import (
	"net"
	"testing"
)

// TestBrowseURL: a listener on every address is reached at localhost; a
// listener on one address at that address.
func TestBrowseURL(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8080":   "http://localhost:8080",
		"[::]:8080":      "http://localhost:8080",
		"127.0.0.1:9":    "http://127.0.0.1:9",
		"[::1]:8080":     "http://[::1]:8080",
		"10.1.2.3:18080": "http://10.1.2.3:18080",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := BrowseURL(tcp); got != want {
			t.Errorf("BrowseURL(%s) = %s, want %s", addr, got, want)
		}
	}
}
