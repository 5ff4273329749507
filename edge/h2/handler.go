package h2

import (
	"errors"
	"net"
)

// Handler answers HTTP/2 requests.
//
// ServeH2 is called on the connection's goroutine, one stream at a time, in the order the
// requests arrived; while it runs the connection reads no frames, so it must not block. It
// either answers before returning (Respond, or WriteHeader/Write/Close: the synchronous path
// of a cache hit) or calls w.Detach and hands w and r to another goroutine, which then may
// block (a miss or a pass). A handler that returns without answering and without Detach gets
// an empty 500 sent for it (or its started response closed); a panic in ServeH2 resets its
// stream with INTERNAL_ERROR and is logged. A handler that did not detach must not keep w,
// r or r.Fields past its return: the connection reuses the stream for its next request.
type Handler interface {
	ServeH2(w ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// ServeH2 calls f(w, r).
func (f HandlerFunc) ServeH2(w ResponseWriter, r *Request) { f(w, r) }

// Field is one header or trailer field. Names travel in lowercase in HTTP/2 (RFC 9113
// §8.2.1): request fields arrive lowercase; response field names are lowercased when needed
// and connection-specific fields (§8.2.2) are dropped on the way out.
type Field struct {
	Name, Value string
}

// Request is the view of one request stream, without net/http. For a handler that detached,
// it and its Fields stay valid until the stream ends (the response is finished, aborted or
// reset); for one that did not, until ServeH2 returns.
type Request struct {
	Method    string // :method
	Scheme    string // :scheme; empty for CONNECT
	Authority string // :authority, or the host field when :authority is absent
	Path      string // :path: origin-form path and query, or "*"; empty for CONNECT
	// Fields are the regular header fields in arrival order, names lowercase. Cookie crumbs
	// are joined into one cookie field with "; " (RFC 9113 §8.2.3).
	Fields []Field
	// ContentLength is the content-length field's value, or -1 when absent.
	ContentLength int64
	// Body streams the request content. Never nil; at EOF at once when HEADERS ended the
	// stream. Read blocks, so only a detached handler may read a body that is still arriving.
	Body *Body

	StreamID   uint32
	RemoteAddr net.Addr
	// TLS: the connection is a *tls.Conn (ALPN h2), not cleartext h2c. :scheme is the
	// client's claim; this is the connection's.
	TLS bool
	// ServerName is the name the client sent in the TLS handshake (SNI) of the connection,
	// "" on h2c or without SNI: the server may refuse a request for a host the certificate
	// it served for that name does not cover (421, RFC 9110 section 7.4).
	ServerName string
}

// Get returns the value of the first field named name (lowercase), or "".
func (r *Request) Get(name string) string {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return r.Fields[i].Value
		}
	}
	return ""
}

// ResponseWriter sends one response on one stream.
//
// Concurrency: until Detach, only the ServeH2 call may use it, on the connection's goroutine,
// and no method blocks. After Detach, one other goroutine at a time may use it; Write may
// block on flow control. Done may be called from any goroutine.
type ResponseWriter interface {
	// Respond sends a whole response: HEADERS with :status and fields, then body in DATA
	// frames within the peer's windows, END_STREAM on the last frame. It never blocks: what
	// the windows do not allow yet is sent as WINDOW_UPDATEs arrive, so body is retained
	// until then and must not be modified (cached objects are immutable). It finishes the
	// handler's use of the stream.
	Respond(status int, fields []Field, body []byte) error
	// WriteInterim sends an informational response (1xx, not 101), e.g. 103 Early Hints
	// (RFC 8297). It may be called several times before WriteHeader.
	WriteInterim(status int, fields []Field) error
	// WriteHeader sends the final response header; Write sends the content and Close ends it.
	WriteHeader(status int, fields []Field) error
	// Write sends p as DATA frames. Before Detach it never blocks and keeps a copy of what
	// the windows do not allow yet. After Detach it returns once p has been handed to the
	// connection, blocking while the peer's windows are shut; it fails with ErrStreamClosed
	// when the stream was reset or the connection went away, ErrStalled when the window
	// stayed shut for Config.StallTimeout.
	Write(p []byte) (int, error)
	// Close ends the response with END_STREAM, after trailers when given (RFC 9113 §8.1).
	// It finishes the handler's use of the stream.
	Close(trailers []Field) error
	// Abort resets the stream with RST_STREAM INTERNAL_ERROR, e.g. for a truncated origin
	// body (RFC 9113 §8.1): the client learns the response is incomplete. It finishes the
	// handler's use of the stream.
	Abort()
	// Detach tells the server that the stream is finished from another goroutine. It must
	// be called in ServeH2, before w is handed on; ServeH2 then returns without calling
	// Write or Body.Read itself: they may block, and only the connection's goroutine, which
	// is running ServeH2, could unblock them. The detached handler must end with Respond,
	// Close or Abort even when the stream was reset meanwhile: until then the stream counts
	// against Config.MaxConcurrentStreams.
	Detach()
	// Done is closed when the stream ends for any reason: sent in full, reset by either
	// side, or the connection closed. A detached handler selects on it to stop early.
	Done() <-chan struct{}
}

// Errors returned to handlers.
var (
	// ErrStreamClosed: the stream was reset, already finished, or its connection closed.
	ErrStreamClosed = errors.New("h2: stream closed")
	// ErrStalled: the peer's flow-control window stayed shut for Config.StallTimeout.
	ErrStalled = errors.New("h2: stream stalled on a shut flow-control window")
	// ErrHeaderSent: WriteHeader, WriteInterim or Respond after the final header.
	ErrHeaderSent = errors.New("h2: response header already sent")
	// ErrNoHeader: Write or Close before WriteHeader.
	ErrNoHeader = errors.New("h2: body written before the response header")
	// ErrBadStatus: a status outside 100-599, 101 (RFC 9113 §8.6), or a 1xx given as final.
	ErrBadStatus = errors.New("h2: invalid status code")
	// ErrBodyTooLarge: the request content exceeded Config.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("h2: request body larger than the configured maximum")
	// ErrBodyTimeout: no request content arrived for Config.IdleTimeout, or it did not end
	// within Config.BodyTimeout.
	ErrBodyTimeout = errors.New("h2: request body stalled")
	// ErrBodyNotReady: Body.Read from a handler that has not detached, while content is
	// still arriving: reading would block the connection's goroutine.
	ErrBodyNotReady = errors.New("h2: request body read before Detach would block the connection")
)
