package edge

import (
	"bufio"
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/valyala/fasthttp"
)

// A fill reads the origin's head once, from where the origin client parsed it
// (answer.storedHeader), instead of copying it into a fieldList first: the Header it stores
// and relays is responseHeader of that copy, field for field, spelled and ordered as sent.
// RFC 9110 section 7.6.1: hop-by-hop fields and every name a Connection line lists (any case,
// any OWS, more lines than are honoured in place) are dropped, Content-Length too (the writer
// frames); past the fields gathered on the stack and past the 64 of the bit set included.
// The copy is one string and one slice.
func TestAnswer_storedHeaderIsResponseHeader(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "X-Pad-%d: %d\r\n", i, i)
		}
		return b.String()
	}
	heads := originHeads()
	heads["nginx"] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Type: text/css\r\nContent-Length: 1024\r\n" +
		"Last-Modified: Mon, 30 Nov 2026 09:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"692c-400\"\r\nCache-Control: max-age=60\r\nAccept-Ranges: bytes\r\n\r\n"
	heads["lower case, no length"] = "HTTP/1.1 200 OK\r\ndate: Mon, 30 Nov 2026 10:00:00 GMT\r\nx-B: 2\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\ncontent-type: text/plain\r\n\r\n"
	heads["chunked, encoded"] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-a: 1\r\nContent-Encoding: gzip\r\n\r\n"
	heads["past the stack"] = "HTTP/1.1 200 OK\r\nConnection: x-pad-3\r\n" + many(rawFieldsOnStack+5) + "Content-Length: 0\r\n\r\n"
	heads["past 64 fields"] = "HTTP/1.1 200 OK\r\n" + many(70) + "Connection: X-Pad-68\r\nContent-Length: 0\r\n\r\n"
	heads["no fields at all"] = "HTTP/1.1 204 No Content\r\n\r\n"
	for name, raw := range heads {
		t.Run(name, func(t *testing.T) {
			read := func() *fasthttp.Response {
				resp := fasthttp.AcquireResponse()
				resp.Header.DisableNormalizing()
				if err := resp.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
					t.Fatal(err)
				}
				resp.Header.SetNoDefaultContentType(true)
				return resp
			}
			a := answerOf(read())
			want := responseHeader(&a.head)
			a.free()

			b := answers.Get().(*answer).bare(read())
			defer b.free()
			got := b.storedHeader()
			if g, w := dumpHeader(got), dumpHeader(want); g != w {
				t.Errorf("stored\n%s\nwant (responseHeader)\n%s", g, w)
			}
			for _, f := range got {
				switch s := strings.ToLower(f.Name); {
				case s == "connection", s == "content-length", s == "transfer-encoding", s == "x-one", s == "x-two", s == "x-pad-3" && name == "past the stack", s == "x-pad-68":
					t.Errorf("stored %q", f.Name)
				}
			}
			// Connection lines past maxConnectionLines are split into a list; past
			// rawFieldsOnStack fields the walk borrows a pooled slice, which the race
			// detector's sync.Pool drops now and then.
			if name != "many connection lines" && len(got) > 0 && !(raceEnabled && strings.HasPrefix(name, "past")) {
				if n := testing.AllocsPerRun(20, func() { b.storedHeader() }); n != 2 {
					t.Errorf("%v allocations, want 2", n)
				}
			}
		})
	}
}

func dumpHeader(h httpcache.Header) string {
	var b strings.Builder
	for _, f := range h {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, f.Value)
	}
	return b.String()
}

// BenchmarkAnswer_storedHeader is a fill's copy of nginx's head: copied/ reads it into the
// answer's fieldList and then into the Header (the path before storedHeader), once/ reads it
// into the Header straight from the parsed response.
// Run: go test -run '^$' -bench 'Answer_storedHeader' -benchmem ./edge/
func BenchmarkAnswer_storedHeader(b *testing.B) {
	raw := "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\n" +
		"Last-Modified: Mon, 30 Nov 2026 09:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"692c-400\"\r\nCache-Control: max-age=3600\r\nAccept-Ranges: bytes\r\n\r\n"
	resp := fasthttp.AcquireResponse()
	resp.Header.DisableNormalizing()
	if err := resp.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		b.Fatal(err)
	}
	resp.Header.SetNoDefaultContentType(true)
	a := answers.Get().(*answer)
	b.Run("copied", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = responseHeader(&a.of(resp).head)
		}
	})
	b.Run("once", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = a.bare(resp).storedHeader()
		}
	})
}
