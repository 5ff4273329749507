package main

import (
	"bytes"
	"fmt"
	"strconv"
)

// head is what a response head says about its body and its connection.
type head struct {
	status  int
	length  int64 // Content-Length, -1 if none
	chunked bool
	close   bool // the server ends the connection after this response

	http10    bool // the status line says HTTP/1.0
	keepAlive bool // Connection: keep-alive (keeps an HTTP/1.0 connection open)
}

// headError is a response head this client cannot frame a body by.
type headError struct{ reason string }

func (e headError) Error() string { return "response head: " + e.reason }

// readHead reads one response head up to its empty line and parses it.
func (c *client) readHead() (head, error) {
	var h head
	status, err := c.line()
	if err != nil {
		return h, fmt.Errorf("status line: %w", err)
	}
	h, err = parseStatus(status)
	if err != nil {
		return h, err
	}
	for {
		l, err := c.line()
		if err != nil {
			return h, fmt.Errorf("head: %w", err)
		}
		if len(l) == 0 {
			break
		}
		if err := h.field(l); err != nil {
			return h, err
		}
	}
	if h.http10 && !h.keepAlive {
		h.close = true
	}
	if h.chunked && h.length >= 0 {
		// RFC 9112 6.3: both is a smuggling sign; a benchmark target must not send it.
		return h, headError{"both Transfer-Encoding and Content-Length"}
	}
	return h, nil
}

// parseStatus reads "HTTP/1.x NNN reason". An HTTP/1.0 response ends its connection unless it
// says keep-alive (field below).
func parseStatus(l []byte) (head, error) {
	h := head{length: -1}
	if len(l) < 12 || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' || (len(l) > 12 && l[12] != ' ') {
		return h, headError{fmt.Sprintf("status line %q", l)}
	}
	code, err := strconv.Atoi(string(l[9:12]))
	if err != nil || code < 100 {
		return h, headError{fmt.Sprintf("status line %q", l)}
	}
	h.status = code
	h.http10 = l[7] == '0'
	return h, nil
}

// field applies one field line to h: Content-Length, Transfer-Encoding and Connection; the
// others do not frame the body.
func (h *head) field(l []byte) error {
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return headError{fmt.Sprintf("field line %q", l)}
	}
	name, value := l[:colon], bytes.Trim(l[colon+1:], " \t")
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 || (h.length >= 0 && h.length != n) {
			return headError{fmt.Sprintf("Content-Length %q", value)}
		}
		h.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		// Only chunked as the last coding frames a response we can read to its end here.
		codings := bytes.Split(value, []byte(","))
		last := bytes.Trim(codings[len(codings)-1], " \t")
		if !bytes.EqualFold(last, []byte("chunked")) {
			return headError{fmt.Sprintf("Transfer-Encoding %q", value)}
		}
		h.chunked = true
	case bytes.EqualFold(name, []byte("Connection")):
		for _, opt := range bytes.Split(value, []byte(",")) {
			opt = bytes.Trim(opt, " \t")
			if bytes.EqualFold(opt, []byte("close")) {
				h.close = true
			} else if bytes.EqualFold(opt, []byte("keep-alive")) {
				h.keepAlive = true
			}
		}
	}
	return nil
}
