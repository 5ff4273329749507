package edge

import (
	"bytes"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

// relayInPlace is relayTo for an answer the origin client parsed straight into the client's
// response head (askPool, HTTP/1.1): the head is finished where it is, to what relayFields
// would have built from it. The origin client already left out the hop-by-hop fields of an
// HTTP/1.1 head (origin.Pool.SendHead); what is left to do here is this hop's framing and
// status line. A head that still needs fields taken out or a Date put in (an HTTP/1.0 origin's
// Connection, a Transfer-Encoding on a 304, no Date or two) is rebuilt by relayFields from a
// copy: fasthttp deletes a field by swapping the last one into its place, which would reorder
// a field's lines, and it adds no Date to a parsed head.
func (a *answer) relayInPlace(now time.Time) (headLength int64) {
	h := a.inPlace
	// Set by the origin's Connection: close, or by the parser for a body delimited by the
	// connection's end: the origin connection's business, not the client's.
	h.ResetConnectionClose()
	headLength = int64(max(h.ContentLength(), -1))
	dates, trailer, rebuild := 0, false, false
	for k := range h.All() {
		switch {
		case len(k) == len("Date") && bytes.EqualFold(k, []byte("Date")):
			dates++
		case len(k) == len("Trailer") && bytes.EqualFold(k, []byte("Trailer")):
			trailer = true
		case len(k) == len("Transfer-Encoding") && bytes.EqualFold(k, []byte("Transfer-Encoding")):
			// The writer frames a body itself (SetBodyStream); a 304's would go out as it came.
			rebuild = rebuild || a.status == http.StatusNotModified
		case isHopByHop(k):
			rebuild = true // a head parsed whole: not HTTP/1.1, or too many Connection names
		}
	}
	if rebuild || dates != 1 {
		tmp := fasthttp.AcquireResponse()
		h.CopyTo(&tmp.Header)
		headLength = relayFields(http1Head{h}, &tmp.Header, a.status, now)
		fasthttp.ReleaseResponse(tmp)
	} else if trailer {
		h.Del("Trailer")
	}
	// The status line startWithDate gives: HTTP/1.1 and the status's own reason phrase,
	// whatever version and phrase the origin sent.
	h.SetProtocol(nil)
	h.SetStatusMessage(nil)
	if a.status == http.StatusNotModified {
		// RFC 9110 section 8.6: a 304's Content-Length would say the 200's length (startWithDate).
		h.Del("Content-Length")
	}
	return headLength
}
