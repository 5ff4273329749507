package edge

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/origin"
	"github.com/valyala/fasthttp"
)

// answer is what an origin or the owner answered, as the pipeline reads it: the final
// status, the head (fields as sent, framing left to the writer) in a fieldList, the announced
// length and the body stream. The origin client and the peer hop speak fasthttp's response;
// only this file and originreq.go know it. Pooled: free gives it back once its body is
// closed.
type answer struct {
	status int
	head   fieldList
	// length is the announced Content-Length: -1 for chunked, -2 for a body that ends with
	// the connection (fasthttp's values).
	length int
	resp   *fasthttp.Response
	// framedTwice: the origin's head had Content-Length and Transfer-Encoding both
	// (origin.Result.FramedTwice); such an answer is relayed, never stored.
	framedTwice bool
	// hold is where the pool keeps resp's body stream and connection (origin.Hold): the
	// answer's, so that an origin request allocates neither. It is resp's until free.
	hold origin.Hold
	// inPlace, when not nil, is the client's response head the origin client parsed the
	// answer into (HTTP/1.1 pass: askPool), and stream its body; resp is nil then.
	inPlace *fasthttp.ResponseHeader
	stream  io.ReadCloser
	// pending: the body had not all arrived with the head (origin.Result.BodyPending); its
	// head goes to the client at once (FlushHead).
	pending bool
}

var answers = sync.Pool{New: func() any { return &answer{head: fieldList{contentLength: -2}} }}

// answerOf reads resp's head into a pooled answer, which then owns resp.
func answerOf(resp *fasthttp.Response) *answer {
	return answers.Get().(*answer).of(resp)
}

// of makes a the answer resp carries, its head copied into a.head.
func (a *answer) of(resp *fasthttp.Response) *answer {
	a.bare(resp)
	for k, v := range resp.Header.All() {
		a.head.AddBytesKV(k, v)
	}
	return a
}

// bare makes a the answer resp carries, without the head's copy: for a pass, which relays
// the origin's head straight from where it was parsed (relayTo) and never reads a.head.
func (a *answer) bare(resp *fasthttp.Response) *answer {
	a.resp = resp
	a.status = resp.StatusCode()
	a.length = lengthOf(a.status, resp.Header.ContentLength())
	a.framedTwice, a.pending = false, false
	a.head.Reset()
	return a
}

// lengthOf is an answer's length from its status and its head's Content-Length.
func lengthOf(status, contentLength int) int {
	if status == fasthttp.StatusNoContent {
		// RFC 9110 sections 6.4.1 and 8.6: a 204 has no content, whatever Content-Length it
		// carries (the origin client reads none); taken as the length, the fill found the
		// body short and dropped the object as truncated.
		return 0
	}
	return contentLength
}

// maxConnectionLines bounds the Connection lines relayTo honours without allocating; a head
// with more has its extra lines' names dropped through a copy (as copyEndToEnd does).
const maxConnectionLines = 4

// relayTo starts dst as the answer to relay (status, the origin's Date or now's) and adds
// the origin's end-to-end fields, names as sent, straight from the head the origin client
// parsed: without the hop-by-hop fields of RFC 9110 section 7.6.1, the framing fields (the
// writer computes its own) and every name a Connection line lists, whatever the case. It
// returns the length an answer to HEAD gives for its GET, -1 for none (headAnswerLength).
// It is copyEndToEnd over the parsed head, for a bareAnswer.
func (a *answer) relayTo(dst responseHead, now time.Time) (headLength int64) {
	if a.inPlace != nil {
		return a.relayInPlace(now)
	}
	return relayFields(dst, &a.resp.Header, a.status, now)
}

// relayFields is relayTo from src, a head the origin client parsed.
func relayFields(dst responseHead, src *fasthttp.ResponseHeader, status int, now time.Time) (headLength int64) {
	var date []byte
	var conn [maxConnectionLines][]byte
	lines := 0
	var more [][]byte // Connection names past maxConnectionLines lines
	headLength = -1
	for k, v := range src.All() {
		switch {
		case date == nil && len(k) == len("Date") && bytes.EqualFold(k, []byte("Date")):
			date = v
		case isContentLength(k) && headLength < 0:
			var l fieldList
			l.setLength(v)
			headLength = int64(max(l.contentLength, -1))
		case len(k) == len("Connection") && bytes.EqualFold(k, []byte("Connection")):
			if lines < len(conn) {
				conn[lines] = v
				lines++
			} else {
				more = append(more, connectionTokens(append([]byte(nil), v...))...)
			}
		}
	}
	startHead(dst, status, borrowString(date), now)
	for k, v := range src.All() {
		if isHopByHop(k) || isContentLength(k) || listsName(conn[:lines], k) || containsFold(more, k) {
			continue
		}
		dst.AddBytesKV(k, v)
	}
	return headLength
}

// listsName reports whether any of the Connection values names name (a comma-separated list
// of tokens, RFC 9110 section 7.6.1), case-insensitively, without splitting them into a list.
func listsName(values [][]byte, name []byte) bool {
	for _, v := range values {
		for len(v) > 0 {
			var tok []byte
			tok, v = cutListItem(v)
			if len(tok) < len(name) {
				continue // shorter even before its spaces come off
			}
			for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') { // OWS, as trimOWS, inline:
				tok = tok[1:] // this runs for every relayed field
			}
			for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
				tok = tok[:len(tok)-1]
			}
			if len(tok) == len(name) && bytes.EqualFold(tok, name) {
				return true
			}
		}
	}
	return false
}

// storedHeader is responseHeader of the answer's head, read straight from where the origin
// client parsed it: a fill's head was copied into a.head and then again into the Header,
// twice the bytes moved for one Header (issue 15's miss profile). Same fields, same order
// and spelling (TestAnswer_storedHeaderIsResponseHeader).
func (a *answer) storedHeader() httpcache.Header {
	var fields rawFields
	for k, v := range a.resp.Header.All() {
		fields.add(k, v)
	}
	h := endToEndHeader(fields.list())
	fields.release()
	return h
}

// body is the answer's body stream (nil without one).
func (a *answer) body() io.Reader {
	if a.stream != nil {
		return a.stream
	}
	if s := a.resp.BodyStream(); s != nil {
		return s
	}
	return nil
}

// closeBody closes the body stream, read to its end or not.
func (a *answer) closeBody() error {
	if a.stream != nil {
		return a.stream.Close()
	}
	return a.resp.CloseBodyStream()
}

// free gives the answer and its response back. The head and body must not be used after.
func (a *answer) free() {
	if a.resp != nil {
		fasthttp.ReleaseResponse(a.resp)
	}
	a.resp, a.inPlace, a.stream = nil, nil, nil
	a.head.Reset()
	answers.Put(a)
}

// askPool sends out (with its content) to the pool and returns the answer with its head
// read, and done, which gives the connection back (origin.Pool.Send); on error neither. out's
// head is written once, straight into the origin connection's buffer (AppendHead). The head
// is not copied into a.head: a pass relays it as it came (relayTo), a fill reads it once,
// into the Header it keeps (storedHeader).
//
// client is the response head the answer is relayed to (a pass), or nil (a fill). An HTTP/1.1
// client's is fasthttp's: the origin client parses the answer straight into it
// (origin.Pool.SendHead, without the hop-by-hop fields), and relayTo only finishes it in
// place, instead of parsing the answer into a response of its own and copying each field
// across (issue 15's pass profile). On error the client's head is as it was, but for the
// fields: the caller answers with a head of its own (originError).
func askPool(pool *origin.Pool, out *fieldList, body io.Reader, bodyLen int64, bodyBytes []byte, t origin.Target, client responseHead) (origin.Result, *answer, func(), error) {
	a := answers.Get().(*answer)
	req := originRequests.Get().(*origin.Request)
	*req = origin.Request{Head: out, Body: body, BodyLen: bodyLen, BodyBytes: bodyBytes, Hold: &a.hold}
	var res origin.Result
	var done func()
	var err error
	if h, ok := client.(http1Head); ok {
		closing := h.ConnectionClose() // parsing the answer's head sets or clears it
		res, a.stream, done, err = pool.SendHead(req, h.ResponseHeader, t)
		if err != nil && closing {
			h.SetConnectionClose()
		} else if err != nil {
			h.ResetConnectionClose()
		}
		if err == nil {
			a.inPlace = h.ResponseHeader
		}
	} else {
		a.resp = fasthttp.AcquireResponse()
		res, done, err = pool.Send(req, a.resp, t)
	}
	*req = origin.Request{}
	originRequests.Put(req)
	if c, ok := body.(io.Closer); ok {
		c.Close() // sent, or never to be: as a fasthttp request closed its stream once written
	}
	if err != nil {
		if done != nil {
			done()
		}
		a.free()
		return res, nil, nil, err
	}
	if a.inPlace != nil {
		a.status = a.inPlace.StatusCode()
		a.length = lengthOf(a.status, a.inPlace.ContentLength())
		a.framedTwice, a.pending = res.FramedTwice, res.BodyPending
		a.head.Reset()
		return res, a, done, nil
	}
	a.resp.Header.SetNoDefaultContentType(true) // see originHead
	a.bare(a.resp).framedTwice = res.FramedTwice
	a.pending = res.BodyPending
	return res, a, done, nil
}

var originRequests = sync.Pool{New: func() any { return new(origin.Request) }}

// askPeer sends out to a peer's port over client (origin.RoundTrip: a reused connection that
// fails before any byte is retried once), relaying interim answers to onInterim; finish
// gives the connection back, reusable when the body was read whole. firstByte and head,
// when positive, bound the wait for the first byte and for the final head (RoundTrip).
func askPeer(client *fasthttp.HostClient, out *fieldList, idle, firstByte, head time.Duration, onInterim origin.InterimFunc) (*answer, func(reuse bool), error) {
	req := fasthttp.AcquireRequest()
	writeRequest(out, req, nil, 0, nil) // a cache request: no content
	resp := fasthttp.AcquireResponse()
	finish, pending, err := origin.RoundTrip(client, req, resp, true, idle, firstByte, head, onInterim)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		return nil, nil, err
	}
	resp.Header.SetNoDefaultContentType(true) // see originHead
	a := answerOf(resp)
	a.pending = pending
	return a, finish, nil
}

// interimTo relays the 103 Early Hints an origin or the owner sends to x's client as they
// come (origin.Pool.Do and RoundTrip call it on the request's goroutine).
func (p *pipeline) interimTo(x *exchange) origin.InterimFunc {
	return func(status int, h *fasthttp.ResponseHeader) { p.relayHints(x, hintsOf(status, h)) }
}

// interimToChan sends the Links of each 103 to hints, for a fill's leader to relay; hints
// that find hints full are dropped (the leader is not keeping up: hints are optional).
func interimToChan(hints chan<- earlyHints) origin.InterimFunc {
	return func(status int, h *fasthttp.ResponseHeader) {
		if links := hintsOf(status, h); links != nil {
			select {
			case hints <- links:
			default:
			}
		}
	}
}

// hintsOf copies the Link fields of an origin's interim response when it is a 103 Early
// Hints (RFC 8297) worth relaying, or returns nil. Other 1xx are this hop's business: 100
// Continue answers the node's own Expect (the listener answered the client's), 102 is
// obsolete (RFC 9110 section 15.2).
func hintsOf(status int, h *fasthttp.ResponseHeader) earlyHints {
	if status != fasthttp.StatusEarlyHints {
		return nil
	}
	var links earlyHints
	for k, v := range h.All() {
		if bytes.EqualFold(k, []byte("Link")) && len(v) > 0 {
			links = append(links, append([]byte(nil), v...))
		}
	}
	return links
}
