package edge

import (
	"io"

	"github.com/shoal-cdn/shoal/edge/h2"
)

// h2Response is the response interface for the HTTP/2 listener: the head and body the
// pipeline sets, which h2Respond sends on the stream once handle returns.
type h2Response struct {
	head      fieldList
	body      []byte
	stream    io.Reader
	streamLen int
	skip      bool
	w         h2.ResponseWriter
	n         *Node
}

func (r *h2Response) reset(n *Node, w h2.ResponseWriter) {
	r.head.Reset()
	r.head.status = 200
	r.body, r.stream, r.streamLen, r.skip = nil, nil, 0, false
	r.w, r.n = w, n
}

func (r *h2Response) Head() responseHead { return &r.head }

func (r *h2Response) SetBody(b []byte) {
	r.CloseBodyStream()
	r.body = b
}

func (r *h2Response) Body() []byte { return r.body }

func (r *h2Response) SetBodyStream(s io.Reader, size int) {
	r.CloseBodyStream()
	r.body, r.stream, r.streamLen = nil, s, size
	r.head.contentLength = size
}

func (r *h2Response) BodyStream() io.Reader { return r.stream }

func (r *h2Response) CloseBodyStream() {
	if r.stream != nil {
		closeBody(r.stream, nil)
		r.stream = nil
	}
}

func (r *h2Response) SkipBody()                 { r.skip = true }
func (r *h2Response) BodySkipped() bool         { return r.skip }
func (r *h2Response) SetConnectionClose()       {} // a stream ends on its own; GOAWAY is the server's
func (r *h2Response) ConnectionClose() bool     { return false }
func (r *h2Response) FlushHead()                {} // h2Respond sends a streamed body's head first
func (r *h2Response) Seal(*pipeline, *exchange) {}

func (r *h2Response) Reset() {
	r.CloseBodyStream()
	r.head.Reset()
	r.head.status = 200
	r.body, r.skip = nil, false
}

// Interim sends a 1xx on the stream now (103 Early Hints: its Link fields).
func (r *h2Response) Interim(status int, links [][]byte) {
	fields := make([]h2.Field, len(links))
	for i, l := range links {
		fields[i] = h2.Field{Name: "link", Value: string(l)}
	}
	if err := r.w.WriteInterim(status, fields); err != nil && r.n != nil {
		r.n.log.Debug("h2: interim response not sent", "err", err)
	}
}
