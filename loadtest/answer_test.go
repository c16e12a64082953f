package loadtest

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestParseAnswer checks each framing whole, and that every strict prefix
// of a whole answer asks for more instead of ending early or failing.
func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  string
		status  int
		closing bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"results\":[]}", 200, false},
		{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false},
		{"no reason phrase", "HTTP/1.1 503\r\ncontent-length:2\r\n\r\nno", 503, false},
		{"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nshort", 200, true},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, true},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a;ext=1\r\n" + strings.Repeat("z", 26) + "\r\n0\r\n\r\n", 200, false},
		{"chunked trailers", "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n", 500, false},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, false},
	} {
		b := []byte(tc.answer)
		n, status, closing, err := parseAnswer(b)
		if err != nil || n != len(b) || status != tc.status || closing != tc.closing {
			t.Errorf("%s: n %d of %d, status %d, closing %v, err %v; want status %d, closing %v",
				tc.name, n, len(b), status, closing, err, tc.status, tc.closing)
		}
		// net/http reads the same answer to its end at the same byte.
		r := bufio.NewReader(bytes.NewReader(b))
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%s: net/http: %v", tc.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		if r.Buffered() != 0 || resp.StatusCode != tc.status {
			t.Errorf("%s: net/http left %d bytes, status %d", tc.name, r.Buffered(), resp.StatusCode)
		}
		for i := range len(b) {
			if n, _, _, err := parseAnswer(b[:i]); n != 0 || err != nil {
				t.Errorf("%s: the first %d bytes gave n %d, err %v; want 0, nil", tc.name, i, n, err)
				break
			}
		}
		// A second answer behind the first does not change the first's length.
		if n, _, _, err := parseAnswer(append(b[:len(b):len(b)], b...)); n != len(b) || err != nil {
			t.Errorf("%s: followed by another answer: n %d, err %v; want %d", tc.name, n, err, len(b))
		}
	}
}

func TestParseAnswerRefusesMalformed(t *testing.T) {
	for name, answer := range map[string]string{
		"not HTTP":          "SSH-2.0-OpenSSH\r\n\r\n",
		"short status":      "HTTP/1.1 20\r\n\r\n",
		"status not number": "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
		"status glued":      "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
		"bad length":        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"length not number": "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
		"gzip transfer":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"no framing":        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
		"bad chunk size":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"chunk overrun":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
		"headers too long":  "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxAnswerHead),
	} {
		if n, _, _, err := parseAnswer([]byte(answer)); err == nil {
			t.Errorf("%s: no error (n %d)", name, n)
		}
	}
}

// FuzzParseAnswer: whatever the server sends, the parser does not panic,
// never claims more bytes than it has, and gives an answer's length alike
// whether the answer stands alone or is followed by more bytes.
func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x\r\nok\r\n0\r\nT: 1\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 204 No Content\r\nConnection: close\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, status, closing, err := parseAnswer(b)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) || status < 100 || status > 999 {
			t.Fatalf("n %d of %d bytes, status %d", n, len(b), status)
		}
		n2, status2, closing2, err := parseAnswer(b[:n:n])
		if n2 != n || status2 != status || closing2 != closing || err != nil {
			t.Fatalf("the answer alone: n %d status %d closing %v err %v; with what follows: n %d status %d closing %v",
				n2, status2, closing2, err, n, status, closing)
		}
	})
}
