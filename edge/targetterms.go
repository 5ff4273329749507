package edge

import "bytes"

// requestTerms are the words a refusal of a request's target or host uses: HTTP/1.x's
// request line and Host field (RFC 9112 section 3), or HTTP/2's :path and :authority
// (RFC 9113 section 8.3.1). A client is told about the message it sent, not about the
// HTTP/1.1 form the node turns every request into.
type requestTerms struct {
	target string // the request-target
	forms  string // the forms the target may take
	host   string // where the host comes from
	// hostRequired refuses a request without host; "" where none is required (HTTP/1.0).
	hostRequired string
}

var (
	http10Terms = requestTerms{target: "request-target", forms: "origin-form or absolute-form",
		host: "Host field"}
	http11Terms = requestTerms{target: "request-target", forms: "origin-form or absolute-form",
		host: "Host field", hostRequired: "an HTTP/1.1 request needs a Host field"}
	http2Terms = requestTerms{target: ":path", forms: "origin-form, or * for OPTIONS",
		host: ":authority", hostRequired: "an HTTP/2 request for an http or https URI needs :authority or a host field"}
)

// targetTerms are the terms for a request of protocol proto, as the exchange holds it
// ("HTTP/2.0" for an HTTP/2 stream, see h2Request).
func targetTerms(proto []byte) *requestTerms {
	switch {
	case bytes.Equal(proto, []byte("HTTP/1.0")):
		return &http10Terms
	case bytes.Equal(proto, []byte("HTTP/2.0")):
		return &http2Terms
	}
	return &http11Terms
}
