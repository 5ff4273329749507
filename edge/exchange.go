package edge

import (
	"errors"
	"io"
	"iter"
	"net/netip"
)

// The pipeline (route, key, owner, lookup, fill, serve, pass, purge) works on an exchange:
// a request view a listener filled, a response the pipeline writes, and the request's typed
// state. Only listener code knows the wire: http1.go adapts fasthttp's server (plain HTTP,
// HTTP/1.1 over TLS and the peer port), h2serve.go edge/h2's streams, and an HTTP/3 listener
// would adapt quic-go's the same way (exchange_test.go shows one at this seam). A listener
// fills an exchange, calls Node.handle, and writes what the response holds once handle
// returns; bodies are never copied on the way (a stored object's bytes, a fill's stream, a
// disk file reach the listener as they are).

// The request view is a fieldList (fieldlist.go): the method, the request-target, Host and
// the header fields in the order received, names as sent and matched case-insensitively,
// without the framing fields (Content-Length, Transfer-Encoding), which the listener
// consumed. Every listener fills one; the pipeline rewrites the target once routing made it
// canonical (SetHost, SetRequestURI) and removes fields only a trusted proxy may send, so
// that everything after routing sees one request. A concrete type, not an interface: the
// hit path walks the fields several times, and an iterator through an interface allocates.

// responseHead is the response's status and header fields as the pipeline writes them,
// names as given (an origin's spelling is kept on HTTP/1.1; HTTP/2 lowercases them on the
// wire). Content-Length is the listener's to write from the body (SetContentLength only
// says what a HEAD answer's representation would be). *fasthttp.ResponseHeader implements
// it for the HTTP/1.1 listeners, fieldList for the others.
type responseHead interface {
	StatusCode() int
	SetStatusCode(status int)
	Peek(name string) []byte
	All() iter.Seq2[[]byte, []byte]
	Set(name, value string)
	SetBytesV(name string, value []byte)
	Add(name, value string)
	AddBytesV(name string, value []byte)
	AddBytesKV(name, value []byte)
	Del(name string)
	DelBytes(name []byte)
	// Reset empties the head: no status, no fields.
	Reset()
	// ContentLength is the announced length: -1 unknown (streamed), -2 none set.
	ContentLength() int
	SetContentLength(length int)
	ContentType() []byte
	SetContentType(value string)
}

// response is what the pipeline answers through: a head, then a body as bytes, as a stream
// of known or unknown length, or nothing (HEAD, 304). A body set as bytes is not copied and
// must stay untouched until the listener wrote it (a stored object's body, which is
// immutable). A stream is read and closed by the listener; if it implements
// io.Closer the listener closes it whether or not it was read to its end.
type response interface {
	Head() responseHead
	// SetBody sets the body to b, which the listener writes as it is.
	SetBody(b []byte)
	// Body is the body set as bytes (nil for a stream).
	Body() []byte
	// SetBodyStream sets a body read from r: size bytes, or -1 for an unknown length.
	SetBodyStream(r io.Reader, size int)
	// BodyStream is the stream SetBodyStream set, or nil.
	BodyStream() io.Reader
	// CloseBodyStream closes a stream that will not be written (a replaced answer).
	CloseBodyStream()
	// SkipBody answers without a body (HEAD; RFC 9110 section 9.3.2) and keeps the
	// Content-Length the head says.
	SkipBody()
	BodySkipped() bool
	// SetConnectionClose ends the connection after this response (HTTP/1.1: Connection:
	// close; the others ignore it, a stream ends on its own).
	SetConnectionClose()
	ConnectionClose() bool
	// FlushHead asks the listener to send the head as soon as the handler returns, before
	// any of the body (a streamed miss: the client sees the head while the origin sends).
	FlushHead()
	// Interim sends an interim (1xx) response now, before the final one: status and the
	// values of its Link fields (103 Early Hints, RFC 8297). Called on the request's
	// goroutine only.
	Interim(status int, links [][]byte)
	// Reset discards the head and body written so far (an answer being replaced).
	Reset()
	// Seal is called once the pipeline is done with the response, before the request is
	// recorded: the listener fixes what its protocol needs (an HTTP/1.0 client cannot read
	// a chunked body, so it is held or sent close-delimited).
	Seal(p *pipeline, x *exchange)
}

// exchange is one request's way through the pipeline. It is the listener's (pooled by it)
// and must not be kept past handle, except what the pipeline copies out.
type exchange struct {
	req  *fieldList
	resp response
	// bodyBytes is the request content the listener read whole (content that ended within
	// its prefetch: h2Prefetch, http1Prefetch), or body a stream of it to be read as it
	// arrives (bodyLen bytes, -1 unknown), bounded by limits.max_body_bytes (limitBody);
	// both nil without content.
	bodyBytes []byte
	body      io.Reader
	bodyLen   int64
	// host is the first Host field as received and hosts how many the head had (RFC 9112
	// section 3.2: more than one is refused); the listener counts them on the wire.
	host  []byte
	hosts int
	// remote is the connection's peer address; tls says the client used TLS.
	remote netip.Addr
	tls    bool
	// sni is the name the client sent in its TLS handshake, "" without TLS or SNI
	// (misdirected.go).
	sni string

	// The request's state, set by the pipeline or the listener (it was fasthttp UserValues).

	// forwarded: a peer forwarded this request over the peer port (one hop only); client is
	// the address the peer saw, and the scheme is what it received (tls).
	forwarded bool
	// adoption: the forwarding peer is an owner asking only-if-cached for an object this
	// node kept while it was away (forwardWith), not relaying a client's request.
	adoption bool
	// processing: the forwarding peer was sent 102 Processing (processing.go).
	processing bool
	client     netip.Addr
	// probe is what the HTTP/2 listener's fresh-hit probe found before running the pipeline
	// inline (freshHit), or nil: its object is served even if a purge or an eviction
	// overtook it since, and its walk (target, route, key, lookup, verdict) is the
	// pipeline's when handed over (probeResult.handed).
	probe *probeResult
	// streamed is the body streamBody set, to record the request once it ended: outcome
	// (the exchange's own, so a streamed response allocates none for it) or, when a second
	// body replaced the first, one of its own.
	streamed *outcomeBody
	outcome  outcomeBody
	// passed is a pass's origin body (servePass), which streamed reads: the exchange's own,
	// not an allocation per pass. Every listener keeps the exchange until the body it set
	// was closed (releaseHTTP1; h2Release after closeBody).
	passed originBody
	// requestID is the request's X-Request-Id when a route's rules ask for one.
	requestID string
	// upstream is who this node asked for the response, for the access log (askedUpstream).
	upstream upstream
	// bodyTooLarge: the streamed content outgrew a bound while the origin read it
	// (limitBody); the listener answers 413 instead of the origin error that followed.
	bodyTooLarge bool
	// problem is why the listener does not trust the request's head (a framing problem
	// or an unsupported version, found on the wire): handle refuses it and the connection
	// closes (RFC 9112 section 11.2).
	problem string
	// expect is where a request with Expect: 100-continue stands (expect.go).
	expect expectStage
	// fromStore: answered from the store (a hit, stale or fresh), set by finish; an
	// HTTP/1.1 listener keeps such an answer batched behind pipelined requests
	// (hintorder.go).
	fromStore bool
}

// problemVersion is the problem of a request in a version the listener does not serve.
const problemVersion = "version"

// problemTooManyFields is the problem of a request head with more field lines than
// limits.maxhdr (HAProxy's tune.http.maxhdr): 431, as for a head over max_header_bytes.
const problemTooManyFields = "too many header fields"

// reset makes x ready for the next request of its listener.
func (x *exchange) reset() {
	*x = exchange{}
}

// limitBody bounds the streamed request content to max bytes (limits.max_body_bytes, a
// route's max_body_bytes): past it, reading fails with errBodyTooLarge and bodyTooLarge is
// set. Content held whole is checked by its length instead.
func (x *exchange) limitBody(max int64) {
	if x.body == nil {
		return
	}
	if b, ok := x.body.(*boundedBody); ok {
		b.left = min(b.left, max-b.read)
		return
	}
	x.body = &boundedBody{r: x.body, left: max, x: x}
}

// errBodyTooLarge ends a streamed request content past its bound (RFC 9110 section 15.5.14).
// A listener whose own bound ends the stream reports it as this error too.
var errBodyTooLarge = errors.New("edge: request content too large")

// boundedBody is a request content stream with a bound.
type boundedBody struct {
	r    io.Reader
	left int64 // bytes still allowed
	read int64
	x    *exchange
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed is the proof; EOF at the bound is not.
		var one [1]byte
		k, err := b.r.Read(one[:])
		switch {
		case k > 0 || errors.Is(err, errBodyTooLarge):
			b.x.bodyTooLarge = true
			return 0, errBodyTooLarge
		case err != nil:
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	k, err := b.r.Read(p)
	b.left -= int64(k)
	b.read += int64(k)
	if errors.Is(err, errBodyTooLarge) {
		b.x.bodyTooLarge = true // the listener's own bound (edge/h2's on DATA)
	}
	return k, err
}
