package httpx

import "net"

// BrowseURL is the URL to reach a listener at from this machine, as the
// servers log it: localhost when it listens on every address (:8080), so
// that the URL and examples logged work as pasted.
func BrowseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
