package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// maxAnswerHead bounds the status line and headers of an answer Pace reads.
const maxAnswerHead = 64 << 10

var crlf = []byte("\r\n")

// parseAnswer reads the HTTP/1.1 answer at the start of b, as Pace's event
// loop receives it in pieces: n is its length in bytes, or 0 while b does
// not hold all of it yet; status is its status code, and closing reports
// whether the server closes the connection after it. The body is framed by
// a Content-Length or chunked; an answer with neither is an error.
func parseAnswer(b []byte) (n, status int, closing bool, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > maxAnswerHead {
			return 0, 0, false, errors.New("answer headers too long")
		}
		return 0, 0, false, nil
	}
	line, rest, _ := bytes.Cut(b[:end], crlf)
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil || status < 100 {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	closing = line[7] == '0' // HTTP/1.0 closes unless told otherwise; nearby's servers speak 1.1
	length, chunked := -1, false
	for len(rest) > 0 {
		var field []byte
		field, rest, _ = bytes.Cut(rest, crlf)
		name, value, _ := bytes.Cut(field, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, 0, false, fmt.Errorf("unsupported Transfer-Encoding %q", value)
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	body := end + 4
	switch {
	case status == 204 || status == 304 || status < 200:
		return body, status, closing, nil
	case chunked:
		m, err := chunkedLen(b[body:])
		if m == 0 || err != nil {
			return 0, 0, false, err
		}
		return body + m, status, closing, nil
	case length >= 0:
		if len(b) < body+length {
			return 0, 0, false, nil
		}
		return body + length, status, closing, nil
	}
	return 0, 0, false, errors.New("answer with neither Content-Length nor chunked body")
}

// chunkedLen returns the length of the chunked body at the start of b, its
// trailers included, or 0 while b does not hold all of it yet.
func chunkedLen(b []byte) (int, error) {
	i := 0
	for {
		eol := bytes.Index(b[i:], crlf)
		if eol < 0 {
			return 0, nil
		}
		sizeText, _, _ := bytes.Cut(b[i:i+eol], []byte(";")) // chunk extensions are ignored
		size, err := strconv.ParseUint(string(bytes.TrimSpace(sizeText)), 16, 31)
		if err != nil {
			return 0, fmt.Errorf("malformed chunk size %q", sizeText)
		}
		i += eol + 2
		if size == 0 { // trailers, up to an empty line
			for {
				eol := bytes.Index(b[i:], crlf)
				if eol < 0 {
					return 0, nil
				}
				i += eol + 2
				if eol == 0 {
					return i, nil
				}
			}
		}
		i += int(size)
		if len(b) < i+2 {
			return 0, nil
		}
		if !bytes.Equal(b[i:i+2], crlf) {
			return 0, errors.New("chunk not followed by CRLF")
		}
		i += 2
	}
}
