package edge

import (
	"errors"
	"io"
	"strings"

	"github.com/valyala/fasthttp"
)

// resultAborted is the result recorded for a response whose body did not reach the client
// whole: the origin or a peer cut it, a fill failed, or the client left.
const resultAborted = "aborted"

// outcomeFlag holds the *outcomeBody of a response streamed through streamBody.
const outcomeFlag = "shoal.outcome"

// streamBody sets r as the response body, like ctx.SetBodyStream, and lets the request's
// record (metrics, access log) wait for the body's end, so that it says how the body ended.
//
// A streamed miss announces "stored" in Cache-Status with its head, before its end is known.
// RFC 9211 section 2.5 says "stored" means the cache stored the response, not that it tried:
// when the body is then cut the object is not stored (copyBody), the header the client got
// was wrong, and only the aborted connection or stream tells the client (RFC 9112 section 8).
// The record then says result "aborted" and logs Cache-Status without "stored".
func streamBody(ctx *fasthttp.RequestCtx, r io.Reader, size int) {
	b := &outcomeBody{r: r, length: int64(size)}
	ctx.SetBodyStream(b, size)
	ctx.SetUserValue(outcomeFlag, b)
}

// streamedBody is the streamed body of the response, if it is still the one streamBody set,
// or nil: only such a body can defer the record until fasthttp has closed it.
func streamedBody(ctx *fasthttp.RequestCtx) *outcomeBody {
	b, ok := ctx.UserValue(outcomeFlag).(*outcomeBody)
	if !ok || ctx.Response.SkipBody || ctx.Response.BodyStream() != io.Reader(b) {
		return nil
	}
	return b
}

// outcomeBody passes a response body through, counting what was read, and reports how it
// ended once fasthttp closes it.
type outcomeBody struct {
	r      io.Reader
	length int64 // Content-Length, negative without one
	n      int64
	eof    bool
	failed bool
	closed bool
	done   func(whole bool, sent int64) // nil until the handler returned
}

func (b *outcomeBody) Read(p []byte) (int, error) {
	k, err := b.r.Read(p)
	b.n += int64(k)
	switch {
	case errors.Is(err, io.EOF):
		b.eof = true
	case err != nil:
		b.failed = true
	}
	return k, err
}

// whole reports whether the body was read to its end: to its EOF, or to its Content-Length
// (where fasthttp stops reading).
func (b *outcomeBody) whole() bool {
	return !b.failed && (b.eof || b.length >= 0 && b.n >= b.length)
}

func (b *outcomeBody) Close() error { return b.CloseWithError(nil) }

// CloseWithError is how fasthttp closes the body after writing it, err saying why the write
// stopped early (the client went away).
func (b *outcomeBody) CloseWithError(err error) error {
	if b.closed {
		return nil
	}
	b.closed = true
	if err != nil {
		b.failed = true
	}
	var cerr error
	if c, ok := b.r.(fasthttp.ReadCloserWithError); ok {
		cerr = c.CloseWithError(err)
	} else if c, ok := b.r.(io.Closer); ok {
		cerr = c.Close()
	}
	if b.done != nil {
		b.done(b.whole(), b.n)
	}
	return cerr
}

// withoutStored is a Cache-Status value without the "stored" parameter of its last member
// (this node's).
func withoutStored(cacheStatus string) string {
	i := strings.LastIndexByte(cacheStatus, ',') + 1
	return cacheStatus[:i] + strings.ReplaceAll(cacheStatus[i:], "; stored", "")
}
