package edge

import (
	"bytes"
	"io"
	"net/http"

	"github.com/shoal-cdn/shoal/edge/compress"
	"github.com/shoal-cdn/shoal/httpcache"
)

// Streaming compression of responses as they arrive from the origin (issue 17, nginx
// "gzip on" for dynamic pages): a pass, an uncacheable miss, and the first response of a
// cacheable object (which is stored identity) in a compressible type, identity coded, are
// coded as they stream to the client in the best encoding the client accepts. Hits are
// compressed by variantFor instead, once per encoding, with the same ETag rule.

// compressStream decides for a response whose head is in dst (already written) and returns
// the body to stream: body itself when it stays identity, or a reader of the coded body. It sets Content-Encoding, adds Vary: Accept-Encoding, and drops the length
// (unknown once coded) and a strong ETag (another representation, RFC 9110 section 8.8.3).
func (p *pipeline) compressStream(x *exchange, rt *settings, dst responseHead, status int, body io.ReadCloser, length int) (io.ReadCloser, int) {
	if bytes.Equal(x.req.Method(), []byte("HEAD")) {
		return body, length // codeHeadAnswer
	}
	enc := streamCoding(x, rt, dst, status, length)
	if enc == compress.Identity {
		return body, length
	}
	pr, pw := io.Pipe()
	w, err := rt.compressor.NewWriter(enc, pw)
	if err != nil {
		pw.Close()
		return body, length
	}
	markCoded(dst, enc)
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

// codeHeadAnswer gives the answer to a HEAD whose head is in dst the fields compressStream
// gives the GET's (RFC 9110 section 9.3.2: the fields a GET would have had): Vary,
// Content-Encoding and ETag of the coded representation, and no length, which the coded body
// would not have had either. A HEAD hit gets them from the stored variant (variantFor).
func (p *pipeline) codeHeadAnswer(x *exchange, rt *settings, dst responseHead, status int, length int64) {
	if !headCoded(x) {
		return
	}
	if enc := streamCoding(x, rt, dst, status, int(max(length, -1))); enc != compress.Identity {
		markCoded(dst, enc)
		setHeadLength(dst, -1)
	}
}

// headCoded reports whether a HEAD's answer may take the coded head without a length
// (codeHeadAnswer): not for an HTTP/1.0 client, to whom a head without a length goes out with
// Transfer-Encoding, which RFC 9112 section 6.1 forbids; it keeps the identity head.
func headCoded(x *exchange) bool { return requestProtocol(x) != "HTTP/1.0" }

// streamCoding is the coding compressStream gives a response whose head is in dst: identity
// unless the node compresses its type and size, the origin did not code it or forbid
// transformation, and the client accepts a coding. When the response varies by
// Accept-Encoding here, dst's Vary says so.
func streamCoding(x *exchange, rt *settings, dst responseHead, status int, length int) compress.Encoding {
	if rt.compressor == nil || status != http.StatusOK {
		return compress.Identity
	}
	c := rt.cfg.Compression
	// Names are kept as the origin sent them (normalising is off), so look them up by fold.
	var cacheControl []string
	var contentEncoding, varyName, vary string
	for k, v := range dst.All() {
		switch {
		case bytes.EqualFold(k, []byte("Cache-Control")):
			cacheControl = append(cacheControl, string(v))
		case bytes.EqualFold(k, []byte("Content-Encoding")):
			contentEncoding = string(v)
		case bytes.EqualFold(k, []byte("Vary")):
			// Every line: they are one list (RFC 9110 section 5.3), which
			// varyAcceptEncoding writes back as one line.
			if varyName == "" {
				varyName, vary = string(k), string(v)
			} else {
				vary += ", " + string(v)
			}
		}
	}
	noTransform := len(cacheControl) > 0 && httpcache.ParseCacheControl(cacheControl).NoTransform
	if !compress.Compressible(string(dst.ContentType()), c.Types, contentEncoding, int64(length), int64(c.MinSize), noTransform) {
		return compress.Identity
	}
	varyAcceptEncoding(dst, varyName, vary)
	return clientEncoding(x, rt)
}

// markCoded labels the head in dst as that of its representation coded in enc: Content-
// Encoding, and the ETag codedETag makes of the origin's (under the origin's spelling of
// the name).
func markCoded(dst responseHead, enc compress.Encoding) {
	dst.Set("Content-Encoding", string(enc))
	var name, etag string
	for k, v := range dst.All() {
		if bytes.EqualFold(k, []byte("ETag")) {
			name, etag = string(k), string(v)
			break
		}
	}
	if etag != "" {
		dst.Set(name, codedETag(etag, enc))
	}
}

// varyAcceptEncoding adds Accept-Encoding to the Vary field of a response head being written:
// vary is every Vary line's value joined, written back as one line under the first line's
// spelling name; with no Vary (name "") the line is added.
func varyAcceptEncoding(h responseHead, name, vary string) {
	if name == "" {
		h.Set("Vary", "Accept-Encoding")
		return
	}
	hv := httpcache.Header{{Name: name, Value: vary}}
	addVary(&hv, "Accept-Encoding")
	delResponseFold(h, name) // every line: vary holds them all
	h.Add(name, hv.Get(name))
}

// clientEncoding is the encoding the client's Accept-Encoding prefers among the node's. The
// client's spelling of the name is kept too: "accept-encoding" (every HTTP/2 client) must be
// found.
func clientEncoding(x *exchange, rt *settings) compress.Encoding {
	return compress.Negotiate(x.req.list("Accept-Encoding"), rt.encodings)
}

// fillCoding is the encoding compressStream (codeHeadAnswer for a HEAD) will code the answer
// to a fill's reader in (serveFill): identity for a response it does not compress
// (l.varyEncoding, set by serveFill), a client accepting no coding, a HEAD it leaves identity
// (headCoded), and for a Range request
// for a body of known length, which the range paths answer from the identity bytes.
func fillCoding(x *exchange, l *lookup, length int64) compress.Encoding {
	if !l.varyEncoding || l.head && !headCoded(x) || !l.head && length >= 0 && len(l.req.Header.Get("Range")) > 0 {
		return compress.Identity
	}
	return clientEncoding(x, l.rt)
}

// codedHead is h as compressStream sends it coded in enc: its Content-Encoding and ETag
// (Vary is written with the head, l.varyEncoding). h is not modified.
func codedHead(h httpcache.Header, enc compress.Encoding) httpcache.Header {
	out := h.Clone()
	out.Set("Content-Encoding", string(enc))
	if etag := out.Get("ETag"); etag != "" {
		out.Set("ETag", codedETag(etag, enc))
	}
	return out
}
