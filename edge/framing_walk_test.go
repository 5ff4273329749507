package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// framingWalkSeeds are request heads of every shape the framing guard refuses, their
// neighbours it accepts, and ordinary ones: the field lines after the request line.
var framingWalkSeeds = []string{
	"Host: a\r\n",
	"Host: a\r\nUser-Agent: wrk\r\nAccept: */*\r\n",
	"Host: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n",
	"Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n",
	"Host: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n",
	"Host: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n",
	"Host: a\r\ncontent-length: 4\r\nCONTENT-LENGTH: 5\r\n",
	"Host: a\r\nContent-Length: +4\r\n",
	"Host: a\r\nContent-Length: \r\n",
	"Host: a\r\nContent-Length: 4 \r\n",
	"Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
	"Host: a\r\nTransfer-Encoding: gzip, chunked\r\n",
	"Host: a\r\nTransfer-Encoding: Chunked\r\n",
	"Host: a\r\nX-A: 1\r\n folded\r\n",
	"Host: a\r\nX-A: 1\r\n\tfolded\r\n",
	"Host: a\r\nX-A : 1\r\n",
	"Host: a\r\nX\tA: 1\r\n",
	"Host: a\r\nX(A): 1\r\n",
	"Host: a\r\n: empty name\r\n",
	"Host: a\r\nno colon\r\n",
	"Host: a\r\nX-A: one\x00two\r\n",
	"Host: a\r\nX-A: one\x7ftwo\r\n",
	"Host: a\r\nX-A: one\x01two\r\n",
	"Host: a\r\nX-A: \t tabbed \t\r\n",
	"Host: a\r\nX-A:\r\nX-B: after an empty value\r\n",
	"HOST: a\r\nhost: b\r\n",
	"Host: a\nX-Bare-LF: 1\n",
	"Host: a\r\nX-A: 1\r\n folded\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n",
	// Lines after the one refused are still read into the view (logged with the refusal).
	"Host: a\r\nX-A: 1\r\n folded\r\nX-After: 2\r\n",
	"X-A: 1\r\n folded\r\nHost: a\r\nX-After: 2\r\n",
}

// TestReadCheckedHTTP1Head_asTwoWalks: the one walk of the raw head gives the framing guard's
// answer the guard's own walk gave before the walks were merged (referenceFramingProblem),
// for every seed as raw lines (framingProblem) and for those fasthttp's parser lets through
// to the handler (readCheckedHTTP1Head, which most shapes never reach: fasthttp refuses
// them first), and the same request view, Host lines and fields in order, as the view's walk
// before it (referenceHTTP1Fields).
func TestReadCheckedHTTP1Head_asTwoWalks(t *testing.T) {
	refused := 0
	for _, lines := range framingWalkSeeds {
		if checkOneWalk(t, lines) && referenceFramingProblem([]byte(lines)) != "" {
			refused++
		}
	}
	if refused < 4 {
		t.Fatalf("only %d seed heads that fasthttp read were refused by the guard: the test checks too little", refused)
	}
}

func FuzzReadCheckedHTTP1Head(f *testing.F) {
	for _, s := range framingWalkSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lines string) { checkOneWalk(t, lines) })
}

// checkOneWalk compares the walks for one head; it reports whether fasthttp read it.
func checkOneWalk(t *testing.T, lines string) bool {
	t.Helper()
	if got, want := framingProblem([]byte(lines)), referenceFramingProblem([]byte(lines)); got != want {
		t.Errorf("%q: framingProblem %q, the guard's own walk said %q", lines, got, want)
	}
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	wire := "GET / HTTP/1.1\r\n" + lines + "\r\n"
	if err := req.Header.Read(bufio.NewReader(strings.NewReader(wire))); err != nil {
		return false
	}
	raw := req.Header.RawHeaders()
	var l fieldList
	host, hosts, problem := readCheckedHTTP1Head(&l, &req.Header, 0)
	if want := referenceFramingProblem(raw); problem != want {
		t.Errorf("%q: problem %q, the guard's own walk said %q", lines, problem, want)
	}
	wantFields, wantHost, wantHosts := referenceHTTP1Fields(raw)
	var got []string
	for k, v := range l.All() {
		got = append(got, fmt.Sprintf("%s=%s", k, v))
	}
	if strings.Join(got, "|") != strings.Join(wantFields, "|") || string(host) != string(wantHost) || hosts != wantHosts {
		t.Errorf("%q: fields %q host %q (%d), want %q host %q (%d)", lines, got, host, hosts, wantFields, wantHost, wantHosts)
	}
	return true
}

// referenceFramingProblem is the framing guard as it was before its walk was merged into the
// view's (framingProblem at 3decb0e), kept as the answer the merged walk must give.
func referenceFramingProblem(raw []byte) string {
	var contentLength []byte
	haveCL, haveTE := false, false
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return "obsolete line folding in a header field"
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return "malformed header line"
		}
		name := line[:colon]
		if bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '\t') >= 0 {
			return "whitespace in a header field name"
		}
		if !validToken(name) {
			return "invalid character in a header field name"
		}
		if badFieldValue(line[colon+1:]) {
			return "control character in a header field value"
		}
		value := trimOWS(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if haveCL && !bytes.Equal(value, contentLength) {
				return "two different Content-Length values"
			}
			if len(value) == 0 || len(bytes.Trim(value, "0123456789")) > 0 {
				return "invalid Content-Length"
			}
			haveCL, contentLength = true, value
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if haveTE {
				return "Transfer-Encoding sent twice"
			}
			haveTE = true
			if !bytes.EqualFold(value, []byte("chunked")) {
				return "unsupported Transfer-Encoding"
			}
		}
	}
	if haveCL && haveTE {
		return "both Content-Length and Transfer-Encoding"
	}
	return ""
}

// referenceHTTP1Fields is the view's walk of the raw head before the guard joined it
// (readHTTP1Head at 3decb0e): the fields as "name=value", the first Host and the Host lines.
func referenceHTTP1Fields(raw []byte) (fields []string, host []byte, hosts int) {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || framingField(name) {
			continue
		}
		value = trimOWS(value)
		if len(name) == len("Host") && bytes.EqualFold(name, []byte("Host")) {
			if hosts == 0 {
				host = value
			}
			hosts++
			continue
		}
		fields = append(fields, fmt.Sprintf("%s=%s", name, value))
	}
	return fields, host, hosts
}
