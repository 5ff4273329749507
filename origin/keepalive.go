package origin

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// keepAliveMargin is how much sooner than the server's announced keep-alive timeout the edge
// stops reusing a connection, at most: the request must arrive before the server's timer
// fires, across the network and the server's clock granularity (Apache checks in seconds).
const keepAliveMargin = time.Second

// keepAliveLimit applies v, the Keep-Alive field of a response (RFC 2068 §19.7.1.1: timeout=N,
// the seconds the server keeps an idle connection) to conn: its idle limit becomes the lower of
// idle and N less a margin of min(1s, N/2). It reports false when the connection must not be
// reused at all (timeout=0, or max=0: no request left).
func keepAliveLimit(conn net.Conn, v []byte, idle time.Duration) bool {
	ic := inactivity(conn)
	if ic == nil {
		return true
	}
	ic.idleLimit = idle
	if len(v) == 0 {
		return true
	}
	timeout, hasTimeout, maxLeft, hasMax := parseKeepAlive(v)
	if hasMax && maxLeft <= 0 {
		return false
	}
	if !hasTimeout {
		return true
	}
	limit := time.Duration(timeout) * time.Second
	limit -= min(keepAliveMargin, limit/2)
	if limit <= 0 {
		return false
	}
	ic.idleLimit = min(idle, limit)
	return true
}

// parseKeepAlive reads the timeout and max parameters of a Keep-Alive field value, e.g.
// "timeout=5, max=100". Unknown parameters and malformed values are ignored (the field is
// advisory). It runs on every answer of a server that sends the field (Apache, nginx with
// keepalive_timeout's second parameter): no list is built for it.
func parseKeepAlive(v []byte) (timeout int, hasTimeout bool, maxLeft int, hasMax bool) {
	for len(v) > 0 {
		var part []byte
		part, v, _ = bytes.Cut(v, []byte(","))
		name, value, ok := bytes.Cut(bytes.TrimSpace(part), []byte("="))
		if !ok {
			continue
		}
		n, err := strconv.Atoi(string(bytes.Trim(bytes.TrimSpace(value), `"`)))
		if err != nil || n < 0 {
			continue
		}
		switch {
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("timeout")):
			timeout, hasTimeout = n, true
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("max")):
			maxLeft, hasMax = n, true
		}
	}
	return timeout, hasTimeout, maxLeft, hasMax
}

// idleLimit is how long conn may stay idle in the pool and still be reused: what the last
// response's Keep-Alive allowed, else idle.
func idleLimit(conn net.Conn, idle time.Duration) time.Duration {
	if ic := inactivity(conn); ic != nil && ic.idleLimit > 0 {
		return ic.idleLimit
	}
	return idle
}

// inactivity finds our dialer's connection under fasthttp's TLS wrapping.
func inactivity(conn net.Conn) *inactivityConn {
	for conn != nil {
		switch c := conn.(type) {
		case *inactivityConn:
			return c
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// peekFold returns the first line of a response field whatever the case of its name: the
// client keeps names as the server spelled them, and Peek matches them exactly.
func peekFold(h *fasthttp.ResponseHeader, name string) []byte {
	for k, v := range h.All() {
		if len(k) == len(name) && strings.EqualFold(name, string(k)) {
			return v
		}
	}
	return nil
}
