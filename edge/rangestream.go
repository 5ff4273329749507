package edge

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"

	"github.com/shoal-cdn/shoal/httpcache"
)

// rangeAnswer is what a request's Range makes of a representation whose body is not in
// memory (a disk hit, a fill larger than memory keeps): the same answers serveRange gives
// from a body in memory, one range as a 206 with Content-Range, several as a 206
// multipart/byteranges (RFC 9110 section 14.6), as nginx answers them from its cache.
type rangeAnswer struct {
	ranges []httpcache.ByteRange // nil: send the whole body; else ascending, never overlapping
	heads  [][]byte              // several ranges: the bytes around the parts (httpcache.MultipartHeads)
	length int64                 // the body to send: the range's, or the multipart body's
	done   bool                  // the answer is complete (416)
}

// rangesOf applies the request's Range (and If-Range) to a representation of size bytes:
// it sets the 206 or 416 head and says what body to send. An invalid Range, or a failed
// If-Range, gets the whole body (RFC 9110 section 14.2).
func (p *pipeline) rangesOf(x *exchange, l *lookup, resp httpcache.Response, size int64) rangeAnswer {
	rangeHeader := l.req.Header.Get("Range")
	if rangeHeader == "" {
		return rangeAnswer{}
	}
	if ir := l.req.Header.Get("If-Range"); ir != "" && !httpcache.IfRangeMatches(ir, resp) {
		return rangeAnswer{}
	}
	ranges, err := httpcache.ParseRange(rangeHeader, size)
	if errors.Is(err, httpcache.ErrRangeNotSatisfiable) {
		x.resp.Head().SetStatusCode(http.StatusRequestedRangeNotSatisfiable)
		x.resp.Head().Set("Content-Range", httpcache.ContentRangeUnsatisfied(size))
		x.resp.SetBody(nil)
		return rangeAnswer{done: true}
	}
	if err != nil || len(ranges) == 0 {
		return rangeAnswer{}
	}
	// ParseRange keeps disjoint ranges in the client's order; stream reads the body once,
	// front to back, so a part before the one already sent would skip backwards: "bytes=
	// 100-199,0-9" sent bytes 200-209 as "bytes 0-9". Ascending, each part has its bytes,
	// and a client cannot rely on the order it asked for (RFC 9110 section 15.3.7.2).
	slices.SortFunc(ranges, func(a, b httpcache.ByteRange) int { return cmp.Compare(a.Start, b.Start) })
	head := x.resp.Head()
	head.SetStatusCode(http.StatusPartialContent)
	a := rangeAnswer{ranges: ranges}
	if len(ranges) == 1 {
		head.Set("Content-Range", httpcache.ContentRange(ranges[0], size))
		a.length = ranges[0].Length()
		return a
	}
	ctype, heads := httpcache.MultipartHeads(ranges, size, string(head.ContentType()), newBoundary())
	head.SetContentType(ctype)
	a.heads = heads
	for i, h := range heads {
		a.length += int64(len(h))
		if i < len(ranges) {
			a.length += ranges[i].Length()
		}
	}
	return a
}

// stream is the body of a from body, a representation's bytes in order from the first: the
// bytes before and between the ranges are read and dropped as they arrive, so the head goes
// out at once and no range is held whole.
func (a *rangeAnswer) stream(body io.ReadCloser) io.ReadCloser {
	if len(a.ranges) == 1 {
		r := a.ranges[0]
		return &rangeReader{r: body, skip: r.Start, n: r.Length()}
	}
	var at int64
	return a.parts(body, func(r httpcache.ByteRange) io.Reader {
		skip := r.Start - at
		at = r.End + 1
		return &rangeReader{r: body, skip: skip, n: r.Length()}
	})
}

// readAt is the multipart body of a read from ra, whose offset 0 is the body's first byte;
// ra is closed with it.
func (a *rangeAnswer) readAt(ra interface {
	io.ReaderAt
	io.Closer
}) io.ReadCloser {
	return a.parts(ra, func(r httpcache.ByteRange) io.Reader { return io.NewSectionReader(ra, r.Start, r.Length()) })
}

// parts joins the multipart heads and the ranges part makes, in order.
func (a *rangeAnswer) parts(c io.Closer, part func(httpcache.ByteRange) io.Reader) io.ReadCloser {
	rs := make([]io.Reader, 0, 2*len(a.ranges)+1)
	for i, r := range a.ranges {
		rs = append(rs, bytes.NewReader(a.heads[i]), part(r))
	}
	rs = append(rs, bytes.NewReader(a.heads[len(a.ranges)]))
	return &readCloser{Reader: io.MultiReader(rs...), Closer: c}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// newBoundary is a multipart boundary no one can predict, so content cannot hold it (RFC
// 2046 section 5.1.1): a counter let an origin's content end a part early for every client
// of a cached object, as a crafted delimiter inside it would be taken for the real one.
func newBoundary() string {
	return "shoal" + strconv.FormatUint(rand.Uint64(), 36)
}

// rangeReader is n bytes of r after its first skip bytes: a range of a body that streams by.
// The bytes before the range are read and dropped as they arrive, so the head goes out at
// once and the range's first byte as soon as the origin sends it.
type rangeReader struct {
	r       io.ReadCloser
	skip, n int64
}

func (b *rangeReader) Read(p []byte) (int, error) {
	for b.skip > 0 {
		k, err := b.r.Read(p[:min(int64(len(p)), b.skip)])
		b.skip -= int64(k)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the body ended before the range began
			}
			return 0, err
		}
	}
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	b.n -= int64(k)
	if err == io.EOF && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return k, err
}

func (b *rangeReader) Close() error { return b.r.Close() }
