package edge

import "bytes"

// requestProtocol is the protocol the client spoke, as nginx's $server_protocol logs it:
// HTTP/1.0 or HTTP/1.1 as the request line said (any other version too, escaped when
// written), HTTP/2.0 for a stream, "" when the request line was never read.
func requestProtocol(x *exchange) string {
	switch r := x.resp.(type) {
	case *http1Response:
		if len(x.req.Method()) == 0 {
			return ""
		}
		if p := r.ctx.Request.Header.Protocol(); !bytes.Equal(p, []byte("HTTP/1.1")) {
			return string(p)
		}
		if v := sentVersion(&r.ctx.Request.Header); v != "" {
			return v // served as 1.1 (servedAsHTTP11)
		}
		return "HTTP/1.1"
	case *h2Response:
		return "HTTP/2.0"
	}
	return ""
}

// appendLogField appends a quoted combined-format field's value: "-" when the request had
// none (Apache and nginx write "-" for a missing Referer or User-Agent; "" said the client
// sent an empty one), else the value escaped.
func appendLogField(b []byte, v string) []byte {
	if v == "" {
		return append(b, '-')
	}
	return appendLogEscaped(b, v)
}

// appendLogEscaped appends v as nginx escapes a logged value: '"', '\', control bytes and
// bytes above 0x7e as \xHH. A request can then neither end its quoted field early (a '"' in
// a User-Agent forging the fields after it), nor start a forged line (CR LF), nor send a
// terminal escape sequence to an operator's tail -f.
func appendLogEscaped(b []byte, v string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}

// recordRejected writes the access record, result "rejected", of a request the listener
// refused before the pipeline saw it (400, 408, 413, 414, 431): nginx and HAProxy log those,
// and an operator reads attacks from them. The listener calls it once the answer is made,
// before fasthttp writes it; the record's time is the refusal's. headRead says the head was
// read whole (413); otherwise fasthttp's request line is its defaults ("GET /"), not the
// client's, and the record's request is "-".
func (n *Node) recordRejected(x *exchange, headRead *bool) {
	if !n.access.enabled() {
		return
	}
	now, bytes := n.now(), responseBytes(x.resp)
	if *headRead {
		n.access.record(x, now, now, "rejected", bytes, "")
		return
	}
	n.access.write(x, "", "", "", now, now, "rejected", bytes, "")
}
