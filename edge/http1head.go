package edge

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"sync"

	"github.com/shoal-cdn/shoal/edge/policy"
	"github.com/valyala/fasthttp"
)

// http1Head is fasthttp's response head as the pipeline's responseHead.
type http1Head struct{ *fasthttp.ResponseHeader }

// startWithDate resets the head to status and Date. fasthttp manages Date itself and
// ignores Set("Date"), so the head is seeded by parsing a minimal header block; every other
// field is added after.
func (h http1Head) startWithDate(status int, date string) {
	p := headSeeds.Get().(*headSeed)
	defer headSeeds.Put(p)
	buf := append(p.buf[:0], "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, " -\r\nDate: "...)
	buf = append(buf, date...)
	if status == http.StatusNotModified {
		// RFC 9110 section 8.6: a 304's Content-Length would say the 200's length, and
		// fasthttp keeps one parsed here on the wire; a 304 has no content to read until
		// close, so none is seeded.
		buf = append(buf, "\r\n\r\n"...)
	} else {
		buf = append(buf, "\r\nContent-Length: 0\r\n\r\n"...) // else fasthttp reads "until close"
	}
	p.buf = buf
	var r *bufio.Reader
	if len(buf)+16 <= headSeedSize {
		p.src.Reset(buf)
		p.r.Reset(&p.src)
		r = p.r
	} else {
		r = bufio.NewReaderSize(bytes.NewReader(buf), len(buf)+16) // an odd, long Date
	}
	err := h.Read(r)
	p.r.Reset(nil) // drop the reference to buf's reader until next use
	if err != nil {
		h.SetStatusCode(status) // a Date fasthttp cannot parse: send the head without it
	}
	h.SetStatusMessage(nil)
}

// headSeedSize is the reader buffer of a pooled headSeed: room for any ordinary Date.
const headSeedSize = 256

// headSeed is the scratch startHead parses from; pooled because every response needs one.
type headSeed struct {
	buf []byte
	src bytes.Reader
	r   *bufio.Reader
}

var headSeeds = sync.Pool{New: func() any {
	return &headSeed{buf: make([]byte, 0, headSeedSize), r: bufio.NewReaderSize(nil, headSeedSize)}
}}

// delFold deletes every line of name, whatever the case it was spelled in (fasthttp's Del
// matches names exactly; the head keeps them as the origin spelled them).
func (h http1Head) delFold(name string) { delResponseFields(h.ResponseHeader, []string{name}) }

// folder is h as policy.FieldsDropper with case-insensitive names.
func (h http1Head) folder() policy.FieldsDropper { return responseFieldsFold{h.ResponseHeader} }

// responseFieldsFold applies field rules to fasthttp's response head, whose names are kept as
// the origin spelled them (normalising is off): fasthttp's Del and Set match names exactly,
// so "remove: [X-Debug]" would leave an "x-debug" in place and "set" would add a second
// field beside an "x-edge" instead of replacing it (RFC 9110 section 5.1: names are
// case-insensitive). A fieldList (listFieldsFold) matches names case-insensitively itself.
type responseFieldsFold struct{ h *fasthttp.ResponseHeader }

func (f responseFieldsFold) Del(name string) { delResponseFields(f.h, []string{name}) }

func (f responseFieldsFold) SetBytesV(name string, value []byte) {
	delResponseFields(f.h, []string{name})
	f.h.AddBytesV(name, value)
}

func (f responseFieldsFold) AddBytesV(name string, value []byte) { f.h.AddBytesV(name, value) }

// DelAll is policy.FieldsDropper: on a hit with 5 rules this is one walk over the response
// fields where Del and SetBytesV took five, each copying the names it found to the heap
// (delResponseFields copies them to the stack, and keeps the other fields in their order).
func (f responseFieldsFold) DelAll(names []string) { delResponseFields(f.h, names) }
