package origin

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

var (
	// ErrNoServer means every server of the pool is down, ejected or drained: the edge answers
	// 503 (or serves stale).
	ErrNoServer = errors.New("origin: no server available")
	// ErrQueueTimeout means every usable server was at max_conns and the request waited
	// queue_timeout in vain, or found the queue (max_queue) full: the edge answers 503.
	ErrQueueTimeout = errors.New("origin: queue timeout: every server at max_conns")
)

// Kinds of failure, as in Error.Kind and the kind label of shoal_origin_errors_total.
const (
	KindConnect  = "connect"  // the TCP (or TLS) connection could not be made
	KindTimeout  = "timeout"  // connected, but no response head within first_byte_timeout
	KindReset    = "reset"    // the server closed or reset the connection before a response byte
	KindProtocol = "protocol" // the server answered something that is not an HTTP response
)

// Error is one failed exchange with a server, returned by Do when no retry succeeded. The edge
// maps it to 502 (bad gateway) or, when IsTimeout, 504.
type Error struct {
	Pool, Server string // the server's opaque id
	Addr         string // the server's host:port, for the access log
	Kind         string // KindConnect, KindTimeout, KindReset or KindProtocol
	Err          error

	started bool // the server had sent part of a response
}

// Error names the server by address first, as nginx's "upstream:" does (the id is only what
// sticky cookies carry), and says the kind once: a dial failure's own text starts with it.
func (e *Error) Error() string {
	server := e.Server
	if e.Addr != "" {
		server = e.Addr + " (id " + e.Server + ")"
	}
	return fmt.Sprintf("origin: pool %q server %s: %s: %s", e.Pool, server, e.Kind, strings.TrimPrefix(e.Err.Error(), e.Kind+": "))
}

func (e *Error) Unwrap() error { return e.Err }

// IsTimeout reports whether err is an origin that did not answer in time: no response head within
// first_byte_timeout, or no connection within connect_timeout (nginx answers 504 to both).
func IsTimeout(err error) bool {
	var oe *Error
	if !errors.As(err, &oe) {
		return false
	}
	if oe.Kind == KindTimeout {
		return true
	}
	var ne net.Error
	return oe.Kind == KindConnect && errors.As(oe.Err, &ne) && ne.Timeout()
}

// retryable reports whether a failed attempt may be repeated on another server: nothing of the
// request can have been processed when the connection was refused or dropped before any
// response byte (an interim response counts: the server has the request, and the caller may
// have relayed it).
// A timeout is not retried: the first server may still be working on the request.
func (e *Error) retryable() bool {
	return !e.started && (e.Kind == KindConnect || e.Kind == KindReset)
}
