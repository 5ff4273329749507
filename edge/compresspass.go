package edge

import (
	"bytes"
	"io"

	"github.com/shoal-cdn/shoal/edge/compress"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/valyala/fasthttp"
)

// Streaming compression of responses as they arrive from the origin (issue 17, nginx
// "gzip on" for dynamic pages): a pass, an uncacheable miss, and the first response of a
// cacheable object (which is stored identity) in a compressible type, identity coded, are
// coded as they stream to the client in the best encoding the client accepts. Hits are
// compressed by variantFor instead, once per encoding, with the same ETag rule.

// compressStream decides for a response whose head is in dst (already written) and returns
// the body to stream: body itself when it stays identity, or a reader of the coded body. It sets Content-Encoding, adds Vary: Accept-Encoding, and drops the length
// (unknown once coded) and a strong ETag (another representation, RFC 9110 section 8.8.3).
func (n *Node) compressStream(ctx *fasthttp.RequestCtx, rt *settings, dst *fasthttp.ResponseHeader, status int, body io.ReadCloser, length int) (io.ReadCloser, int) {
	if rt.compressor == nil || status != fasthttp.StatusOK || bytes.Equal(ctx.Method(), []byte("HEAD")) {
		return body, length
	}
	c := rt.cfg.Compression
	noTransform := false
	if cc := dst.PeekAll("Cache-Control"); len(cc) > 0 {
		values := make([]string, len(cc))
		for i, v := range cc {
			values[i] = string(v)
		}
		noTransform = httpcache.ParseCacheControl(values).NoTransform
	}
	if !compress.Compressible(string(dst.ContentType()), c.Types, string(dst.Peek("Content-Encoding")), int64(length), int64(c.MinSize), noTransform) {
		return body, length
	}
	varyAcceptEncoding(dst)
	enc := compress.Negotiate(string(ctx.Request.Header.Peek("Accept-Encoding")), rt.encodings)
	if enc == compress.Identity {
		return body, length
	}
	pr, pw := io.Pipe()
	w, err := rt.compressor.NewWriter(enc, pw)
	if err != nil {
		pw.Close()
		return body, length
	}
	dst.Set("Content-Encoding", string(enc))
	if etag := dst.Peek("ETag"); len(etag) > 0 && !bytes.HasPrefix(etag, []byte("W/")) {
		dst.Set("ETag", variantETag(string(etag), enc))
	}
	go func() {
		// A short or broken origin body closes the pipe with its error, so the client's
		// response is cut as the origin's was, never completed (RFC 9112 section 6.3).
		_, err := io.Copy(w, body)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		body.Close()
		pw.CloseWithError(err)
	}()
	return pr, -1
}

// varyAcceptEncoding adds Accept-Encoding to the Vary of a response head being written.
func varyAcceptEncoding(h *fasthttp.ResponseHeader) {
	vary := string(h.Peek("Vary"))
	hv := httpcache.Header{{Name: "Vary", Value: vary}}
	if vary == "" {
		hv = nil
	}
	addVary(&hv, "Accept-Encoding")
	h.Set("Vary", hv.Get("Vary"))
}
