package edge

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

// serveHTTP2 adapts a net/http request (HTTP/2 over TLS) onto the fasthttp handler, so both
// protocols go through one cache pipeline. The cost is a copy of the request head and body
// into a fasthttp request and of the response head back; bodies stream.
func (n *Node) serveHTTP2(w http.ResponseWriter, r *http.Request) {
	if field := connectionSpecific(r.Header); field != "" {
		// RFC 9113 section 8.2.2: such a message is malformed. Go's server does not reset
		// the stream for it, so refuse it here rather than forward it.
		n.metrics.rejected.WithLabelValues("h2_malformed").Inc()
		http.Error(w, "malformed HTTP/2 request: connection-specific field "+field, http.StatusBadRequest)
		return
	}
	if problem := authorityProblem(r); problem != "" {
		n.metrics.rejected.WithLabelValues("h2_malformed").Inc()
		http.Error(w, "malformed HTTP/2 request: "+problem, http.StatusBadRequest)
		return
	}
	limits := n.rt.Load().cfg.Limits
	// Contexts are pooled: a RequestCtx with its request and response buffers is large, and
	// allocating one per HTTP/2 request dominated the adapter's cost.
	ctx := n.h2ctx.Get().(*fasthttp.RequestCtx) // pooled
	defer func() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.ResetUserValues()
		n.h2ctx.Put(ctx)
	}()
	ctx.Init2(h2conn{remote: remoteAddr(r.RemoteAddr)}, fasthttpLogger{n.log}, false)
	req := &ctx.Request
	req.Header.DisableNormalizing()
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.RequestURI)
	req.Header.SetHost(r.Host)
	for name, values := range r.Header {
		if name == "Host" {
			continue // r.Host holds it (authorityProblem checked that they agree)
		}
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	if r.Body != nil && r.ContentLength != 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(limits.MaxBodyBytes)+1))
		if err != nil {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		if int64(len(body)) > int64(limits.MaxBodyBytes) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		req.SetBodyRaw(body)
	}
	ctx.SetUserValue(schemeFlag, true)
	ctx.SetUserValue(interimFlag, interimWriter(func(status int, links [][]byte) {
		// net/http sends a 1xx WriteHeader as an interim HEADERS frame with the fields the
		// header map holds then, and keeps them: take them out for the final response.
		out := w.Header()
		for _, l := range links {
			out.Add("Link", string(l))
		}
		w.WriteHeader(status)
		out.Del("Link")
	}))
	ctx.Response.Header.DisableNormalizing()
	ctx.Response.Header.SetNoDefaultContentType(true) // as the HTTP/1.1 listener: see originHead
	n.handle(ctx)

	resp := &ctx.Response
	out := w.Header()
	for k, v := range resp.Header.All() {
		name := string(k)
		if isHopByHop(k) || strings.EqualFold(name, "Content-Length") {
			continue
		}
		out.Add(name, string(v))
	}
	if !resp.IsBodyStream() && !resp.SkipBody {
		out.Set("Content-Length", strconv.Itoa(len(resp.Body())))
	} else if resp.SkipBody && resp.Header.ContentLength() >= 0 {
		out.Set("Content-Length", strconv.Itoa(resp.Header.ContentLength()))
	}
	if _, ok := out["Content-Type"]; !ok {
		out["Content-Type"] = nil // net/http would sniff one otherwise; relay the absence
	}
	w.WriteHeader(resp.StatusCode())
	if resp.SkipBody || r.Method == http.MethodHead {
		resp.CloseBodyStream()
		return
	}
	if err := resp.BodyWriteTo(w); err != nil {
		// The body ended early (origin or peer cut it, a fill failed) or the client left. A
		// handler that returns would end the stream with END_STREAM, presenting the part as
		// the whole (RFC 9113 section 8.1): ErrAbortHandler makes net/http reset the stream
		// instead, and it logs nothing for this panic. The deferred cleanup still runs.
		panic(http.ErrAbortHandler)
	}
}

// connectionSpecific names a connection-specific field HTTP/2 forbids, or returns "".
func connectionSpecific(h http.Header) string {
	for _, name := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"} {
		if _, ok := h[name]; ok {
			return name
		}
	}
	if te := h.Get("Te"); te != "" && !strings.EqualFold(strings.TrimSpace(te), "trailers") {
		return "TE"
	}
	return ""
}

// authorityProblem finds an HTTP/2 request whose host does not come from :authority alone
// (RFC 9113 section 8.3.1): a :path that is not origin-form or "*" (an absolute-form :path
// would name another host, which parseTarget lets win), more than one host field, or a host
// field that differs from :authority. Go's server keeps such a host field in r.Header, and
// copied as-is it would replace r.Host; the HTTP/1.1 listener refuses the same shapes (two
// Host fields) with 400.
func authorityProblem(r *http.Request) string {
	if uri := r.RequestURI; uri != "*" && !strings.HasPrefix(uri, "/") {
		return ":path is not origin-form"
	}
	hosts := r.Header["Host"]
	switch {
	case len(hosts) > 1:
		return "more than one host field"
	case len(hosts) == 1 && !strings.EqualFold(hosts[0], r.Host):
		return "host field differs from :authority"
	}
	return ""
}

// h2conn stands in for the connection fasthttp would have: only the addresses are used.
type h2conn struct {
	net.Conn
	remote net.Addr
}

func (c h2conn) RemoteAddr() net.Addr { return c.remote }
func (c h2conn) LocalAddr() net.Addr  { return c.remote }

func remoteAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(ap)
}
