package h2

import (
	"runtime/debug"
	"time"

	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock is the request header block being decoded: HEADERS plus its CONTINUATION
// frames, decoded as they arrive so nothing of the encoded block is kept.
type headerBlock struct {
	id         uint32
	endStream  bool
	selfDep    bool   // HEADERS priority names the stream itself (RFC 9113 §5.3.1)
	frames     int    // CONTINUATION frames so far
	encoded    int    // encoded bytes so far
	listSize   uint32 // RFC 9113 §6.5.2 size of the decoded fields
	tooLarge   bool   // listSize passed MaxHeaderListSize, or fields MaxHeaderFields: answer 431
	uriTooLong bool   // ... at a :path whose HTTP/1.1 request line is over it too: 414
	invalid    bool   // malformed (RFC 9113 §8.1.1): stream error PROTOCOL_ERROR
	sawRegular bool
	sawPseudo  bool

	method, scheme, authority, path string
	userAgent, referer              string // for Config.Rejected's record only
	hasMethod, hasScheme, hasAuth   bool
	hasPath                         bool
	host                            string
	contentLength                   int64
	cookies                         int
	count                           int     // regular fields, a split cookie's crumbs once
	fields                          []Field // reused between blocks
}

func (c *conn) onHeaders(f *http2.HeadersFrame) error {
	if f.StreamID%2 == 0 {
		return connErr(http2.ErrCodeProtocol) // clients open odd streams (RFC 9113 §5.1.1)
	}
	h := &c.hdr
	*h = headerBlock{
		id:            f.StreamID,
		endStream:     f.StreamEnded(),
		selfDep:       f.HasPriority() && f.Priority.StreamDep == f.StreamID,
		contentLength: -1,
		fields:        h.fields[:0],
	}
	c.hdec.SetEmitEnabled(true)
	if !f.HeadersEnded() {
		c.hdrOpenSince = time.Now()
	}
	return c.headerFragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

func (c *conn) onContinuation(f *http2.ContinuationFrame) error {
	// The Framer already refuses a CONTINUATION that does not follow its HEADERS.
	c.hdr.frames++
	if c.hdr.frames > maxContinuations {
		return c.calm(limitContinuation)
	}
	return c.headerFragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

// headerFragment decodes one piece of a header block. The encoded block is bounded by
// twice MaxHeaderListSize: past that a peer is flooding, not sending a large header (whose
// decoded size gets 431), and the connection ends before more is decoded.
func (c *conn) headerFragment(frag []byte, end bool) error {
	c.hdr.encoded += len(frag)
	if c.hdr.encoded > 2*int(c.cfg.MaxHeaderListSize) {
		return c.calm(limitContinuation)
	}
	if _, err := c.hdec.Write(frag); err != nil {
		return connErr(http2.ErrCodeCompression)
	}
	if !end {
		return nil
	}
	c.hdrOpenSince = time.Time{}
	if err := c.hdec.Close(); err != nil {
		return connErr(http2.ErrCodeCompression)
	}
	return c.endHeaders()
}

// onField receives each decoded field and checks it against RFC 9113 §8.2 and §8.3.1.
func (c *conn) onField(f hpack.HeaderField) {
	h := &c.hdr
	h.listSize += f.Size()
	if !f.IsPseudo() && (f.Name != "cookie" || h.cookies == 0) {
		h.count++
	}
	if c.cfg.MaxHeaderFields > 0 && h.count > c.cfg.MaxHeaderFields && !h.tooLarge {
		h.tooLarge = true
		c.hdec.SetEmitEnabled(false)
		return
	}
	if h.listSize > c.cfg.MaxHeaderListSize {
		// The :path whose request line would not fit in HTTP/1.1's head limit either gets
		// that listener's answer, 414 (RFC 9110 section 15.5.15), not 431.
		h.uriTooLong = f.Name == ":path" && requestLineSize(h.method, f.Value) > int(c.cfg.MaxHeaderListSize)
		h.tooLarge = true
		c.hdec.SetEmitEnabled(false) // keep decoding for the HPACK state, stop collecting
		return
	}
	switch f.Name { // kept even past a problem: the rejected request's record names its client
	case "user-agent":
		h.userAgent = f.Value
	case "referer":
		h.referer = f.Value
	}
	if h.invalid {
		return
	}
	if strings.HasPrefix(f.Name, ":") {
		h.sawPseudo = true
		// RFC 9113 §8.2.1 holds for pseudo-fields too: NUL, CR or LF anywhere, or
		// whitespace at either end, makes the request malformed (a stream error, §8.1.1),
		// not a request the node answers 400 from what it made of the value.
		if h.sawRegular || !httpguts.ValidHeaderFieldValue(f.Value) || edgeWhitespace(f.Value) {
			h.invalid = true
			return
		}
		var dup bool
		switch f.Name {
		case ":method":
			dup, h.hasMethod, h.method = h.hasMethod, true, f.Value
		case ":scheme":
			dup, h.hasScheme, h.scheme = h.hasScheme, true, f.Value
		case ":authority":
			dup, h.hasAuth, h.authority = h.hasAuth, true, f.Value
		case ":path":
			dup, h.hasPath, h.path = h.hasPath, true, f.Value
		default: // :status, :protocol (not enabled) and unknown pseudo-fields
			dup = true
		}
		h.invalid = dup
		return
	}
	h.sawRegular = true
	if !validFieldName(f.Name) || !httpguts.ValidHeaderFieldValue(f.Value) || edgeWhitespace(f.Value) {
		h.invalid = true
		return
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		h.invalid = true // connection-specific (RFC 9113 §8.2.2)
		return
	case "te":
		h.invalid = f.Value != "trailers"
	case "content-length":
		// 1*DIGIT (RFC 9110 §8.6): ParseInt alone takes "+4" and "-0", which the HTTP/1.1
		// listener refuses; an origin would be handed a length the client never wrote. A
		// second line is refused even with the same value (§8.6 lets a recipient refuse
		// it), as the HTTP/1.1 listener and nginx refuse it on both protocols.
		n, err := strconv.ParseInt(f.Value, 10, 64)
		if err != nil || n < 0 || f.Value[0] < '0' || f.Value[0] > '9' || h.contentLength >= 0 {
			h.invalid = true
			return
		}
		h.contentLength = n
	case "host":
		h.host = f.Value
	case "cookie":
		h.cookies++
	}
	h.fields = append(h.fields, Field{Name: f.Name, Value: f.Value})
}

// edgeWhitespace: a value that starts or ends with SP or HTAB, which RFC 9113 §8.2.1 makes
// malformed (HTTP/1.1 strips such whitespace as OWS, so the origin would read another value
// than the one the node keyed and matched).
func edgeWhitespace(v string) bool {
	return v != "" && (v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t')
}

// validFieldName: a token (RFC 9110 §5.1) in lowercase (RFC 9113 §8.2.1).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b >= 'A' && b <= 'Z' || !httpguts.IsTokenRune(rune(b)) {
			return false
		}
	}
	return true
}

// wellFormed checks the pseudo-fields a request needs (RFC 9113 §8.3.1).
func (h *headerBlock) wellFormed() bool {
	if h.invalid || !h.hasMethod {
		return false
	}
	if h.method == "CONNECT" {
		return h.hasAuth && !h.hasScheme && !h.hasPath
	}
	return h.hasScheme && validScheme(h.scheme) && h.hasPath && h.path != ""
}

// validScheme: a scheme as RFC 3986 §3.1 spells it, the "valid value" RFC 9113 §8.3.1 asks
// of :scheme (any scheme, not only http and https).
func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// endHeaders acts on a complete header block: trailers of an open stream, or a new stream.
func (c *conn) endHeaders() error {
	h := &c.hdr
	c.mu.Lock()
	if s := c.streams[h.id]; s != nil {
		defer c.mu.Unlock()
		return c.trailers(s)
	}
	if h.id <= c.lastStreamID {
		reset := c.wasResetByUs(h.id)
		c.mu.Unlock()
		if reset {
			// Trailers sent before the client saw our RST_STREAM: ignored (RFC 9113 §5.1,
			// "closed"), the block decoded for the HPACK state only.
			return nil
		}
		return connErr(http2.ErrCodeStreamClosed) // RFC 9113 §5.1, "closed"
	}
	c.lastStreamID = h.id
	if c.goingAway {
		c.mu.Unlock()
		return nil // opened after our GOAWAY: ignored, the client retries elsewhere
	}
	// A block over the size limit stopped being collected where it passed the limit (a
	// :path that did is not recorded): its size is its answer, as on HTTP/1.1.
	if h.selfDep || h.invalid || (!h.tooLarge && !h.wellFormed()) || (h.endStream && h.contentLength > 0) {
		c.resetID(h.id, http2.ErrCodeProtocol)
		c.mu.Unlock()
		c.rejected(0)
		return c.provoked()
	}
	if c.active >= int(c.cfg.MaxConcurrentStreams) {
		c.m.limits.WithLabelValues(limitStreams).Inc()
		c.resetID(h.id, http2.ErrCodeRefusedStream)
		c.mu.Unlock()
		if c.resets.add(time.Now(), c.cfg.LimitWindow, c.cfg.MaxResets) {
			return c.calm(limitRapidReset)
		}
		return nil
	}
	switch {
	case h.tooLarge:
		c.m.limits.WithLabelValues(limitHeaderList).Inc()
		status := 431
		if h.uriTooLong {
			status = 414
		}
		c.reject(h.id, status, h.method == "HEAD", h.endStream)
		c.mu.Unlock()
		c.rejected(status)
		return nil
	case c.cfg.MaxBodyBytes >= 0 && h.contentLength > c.cfg.MaxBodyBytes:
		c.m.limits.WithLabelValues(limitBody).Inc()
		c.reject(h.id, 413, h.method == "HEAD", h.endStream)
		c.mu.Unlock()
		c.rejected(413)
		return nil
	}
	s := c.newStream(h)
	c.mu.Unlock()
	c.m.streams.Inc()
	panicked := c.serveStream(s)
	c.mu.Lock()
	if panicked && !s.detached {
		c.resetStream(s, http2.ErrCodeInternal)
	}
	c.handlerReturned(s)
	c.recycle(s)
	c.mu.Unlock()
	return nil
}

// rejected tells Config.Rejected of the stream of the header block just ended, which no
// handler sees. Called without mu.
func (c *conn) rejected(status int) {
	if c.cfg.Rejected == nil {
		return
	}
	h := &c.hdr
	auth := h.authority
	if !h.hasAuth {
		auth = h.host
	}
	c.cfg.Rejected(RejectedRequest{RemoteAddr: c.nc.RemoteAddr(), Method: h.method, Authority: auth, Path: h.path,
		UserAgent: h.userAgent, Referer: h.referer, Status: status})
}

// serveStream runs the handler. A panic ends its stream (RST_STREAM INTERNAL_ERROR), not
// the process and every other connection with it, as net/http does per request.
func (c *conn) serveStream(s *stream) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			c.log.Error("h2: handler panicked", "remote", c.nc.RemoteAddr(), "stream", s.id, "panic", v,
				"stack", string(debug.Stack()))
		}
	}()
	c.srv.h.ServeH2(s, &s.req)
	return false
}

// trailers handles a second HEADERS on an open stream: it must end the stream and carry no
// pseudo-fields (RFC 9113 §8.1). Trailers are checked and dropped. Called with mu held.
func (c *conn) trailers(s *stream) error {
	h := &c.hdr
	if s.remoteEnded() {
		c.resetStream(s, http2.ErrCodeStreamClosed)
		return c.provoked()
	}
	if !h.endStream || h.sawPseudo || h.invalid {
		c.resetStream(s, http2.ErrCodeProtocol)
		return c.provoked()
	}
	if s.declared >= 0 && s.received != s.declared {
		c.resetStream(s, http2.ErrCodeProtocol)
		return c.provoked()
	}
	c.endRemote(s)
	return nil
}

// reject answers a stream the handler never sees: the head and content Config.Refused makes
// for status, or the bare status. The content goes in one DATA frame when the windows and
// the frame size take it whole now (a refused stream has no queue to wait in); else the head
// goes alone, without its content-length. A HEAD gets the head with its content-length and
// no content (RFC 9110 section 9.3.2). Called with mu held.
func (c *conn) reject(id uint32, status int, head, remoteEnded bool) {
	var fields []Field
	var body []byte
	if c.cfg.Refused != nil {
		fields, body = c.cfg.Refused(status)
	}
	if head {
		body = nil
	} else if n := int64(len(body)); n > min(c.peerInitWindow, c.sendWindow, c.peerMaxFrame) {
		body = nil
		kept := fields[:0:0]
		for _, f := range fields {
			if !strings.EqualFold(f.Name, "content-length") {
				kept = append(kept, f)
			}
		}
		fields = kept
	}
	c.writeHeaders(id, status, fields, len(body) == 0)
	if len(body) > 0 {
		c.writeData(id, true, body)
		c.sendWindow -= int64(len(body))
	}
	if !remoteEnded {
		c.resetID(id, http2.ErrCodeNo) // stop the upload (RFC 9113 §8.1)
	}
}

// requestLineSize is the size of the HTTP/1.1 request line (RFC 9112 section 3) for method and
// path: method SP path SP "HTTP/1.1" CRLF.
func requestLineSize(method, path string) int {
	return len(method) + 1 + len(path) + len(" HTTP/1.1\r\n")
}
