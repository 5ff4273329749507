package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// wireAnswer is one response as it crossed the wire, whatever the protocol: the interim
// statuses, the final status, every field in order (names lowercased, values as sent), the
// content and any trailer fields.
type wireAnswer struct {
	interim  []string // "103 link=</a.css>; rel=preload" per interim response
	status   int
	fields   [][2]string
	body     []byte
	trailers [][2]string
	reset    bool // HTTP/2: the stream was reset before its end
}

func (a *wireAnswer) values(name string) []string {
	var out []string
	for _, f := range a.fields {
		if f[0] == name {
			out = append(out, f[1])
		}
	}
	return out
}

// wireProto is one way to reach a node: HTTP/1.1 in clear, h2c with prior knowledge, or
// HTTP/2 over TLS (ALPN h2).
type wireProto struct {
	name string
	addr string
	tls  bool
	h2   bool
	pool *x509.CertPool
}

// ask sends method path with the extra fields (name, value pairs) on a new connection and
// reads the whole answer.
func (p wireProto) ask(t testing.TB, method, path string, extra ...string) *wireAnswer {
	t.Helper()
	var c net.Conn
	var err error
	if p.tls {
		proto := "http/1.1"
		if p.h2 {
			proto = "h2"
		}
		c, err = tls.Dial("tcp", p.addr, &tls.Config{RootCAs: p.pool, ServerName: "www.example.test", NextProtos: []string{proto}})
	} else {
		c, err = net.Dial("tcp", p.addr)
	}
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var a *wireAnswer
	if p.h2 {
		a, err = askH2(c, p.tls, method, path, extra)
	} else {
		a, err = askH1(c, method, path, extra)
	}
	if err != nil {
		t.Fatalf("%s %s %.60s: %v", p.name, method, path, err)
	}
	return a
}

func askH1(c net.Conn, method, path string, extra []string) (*wireAnswer, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: www.example.test\r\n", method, path)
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", extra[i], extra[i+1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	a := &wireAnswer{}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("status line: %w", err)
		}
		parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("status line %q", line)
		}
		status, _ := strconv.Atoi(parts[1])
		var fields [][2]string
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return nil, fmt.Errorf("head: %w", err)
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			name, value, _ := strings.Cut(l, ":")
			fields = append(fields, [2]string{strings.ToLower(name), strings.Trim(value, " \t")})
		}
		if status >= 100 && status < 200 {
			a.interim = append(a.interim, interimString(status, fields))
			continue
		}
		a.status, a.fields = status, fields
		break
	}
	if method == "HEAD" || a.status == 204 || a.status == 304 {
		return a, nil
	}
	var body io.Reader
	switch te, cl := a.values("transfer-encoding"), a.values("content-length"); {
	case len(te) > 0:
		body = httputil.NewChunkedReader(br)
	case len(cl) > 0:
		k, err := strconv.Atoi(cl[0])
		if err != nil {
			return nil, fmt.Errorf("content-length %q", cl)
		}
		body = io.LimitReader(br, int64(k))
	default:
		body = br
	}
	var err error
	if a.body, err = io.ReadAll(body); err != nil || len(a.values("transfer-encoding")) == 0 {
		return a, err
	}
	// The trailer section after the last chunk (RFC 9112 section 7.1.2).
	for {
		l, err := br.ReadString('\n')
		if l = strings.TrimRight(l, "\r\n"); l == "" || err != nil {
			return a, nil
		}
		name, value, _ := strings.Cut(l, ":")
		a.trailers = append(a.trailers, [2]string{strings.ToLower(name), strings.Trim(value, " \t")})
	}
}

func interimString(status int, fields [][2]string) string {
	s := strconv.Itoa(status)
	for _, f := range fields {
		s += " " + f[0] + "=" + f[1]
	}
	return s
}

// askH2 sends one request on stream 1 and reads its frames to the end, every header block
// decoded exactly as sent (no validation: what a careless client would see).
func askH2(c net.Conn, tlsConn bool, method, path string, extra []string) (*wireAnswer, error) {
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return nil, err
	}
	fr := http2.NewFramer(c, c)
	fr.SetMaxReadFrameSize(1 << 20)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 30})
	fr.WriteWindowUpdate(0, 1<<30)
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	scheme := "http"
	if tlsConn {
		scheme = "https"
	}
	for _, f := range [][2]string{{":method", method}, {":scheme", scheme}, {":authority", "www.example.test"}, {":path", path}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for i := 0; i+1 < len(extra); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: strings.ToLower(extra[i]), Value: extra[i+1]})
	}
	// A block over the default SETTINGS_MAX_FRAME_SIZE goes on in CONTINUATION frames.
	blk := buf.Bytes()
	first := blk[:min(len(blk), 16384)]
	// A request that declares content never sends it: the node answers from the head (413).
	declared := false
	for i := 0; i+1 < len(extra); i += 2 {
		declared = declared || strings.EqualFold(extra[i], "content-length")
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndStream: !declared, EndHeaders: len(first) == len(blk)}); err != nil {
		return nil, err
	}
	for rest := blk[len(first):]; len(rest) > 0; {
		k := min(len(rest), 16384)
		if err := fr.WriteContinuation(1, k == len(rest), rest[:k]); err != nil {
			return nil, err
		}
		rest = rest[k:]
	}
	dec := hpack.NewDecoder(4096, nil)
	a := &wireAnswer{}
	var block []byte
	final := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		var ended bool
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
			continue
		case *http2.GoAwayFrame:
			return nil, fmt.Errorf("GOAWAY %v", f.ErrCode)
		case *http2.RSTStreamFrame:
			if final && f.ErrCode == http2.ErrCodeNo {
				return a, nil // the answer was whole; the reset stops the upload (RFC 9113 section 8.1)
			}
			a.reset = true
			return a, nil
		case *http2.DataFrame:
			a.body = append(a.body, f.Data()...)
			if !f.StreamEnded() {
				continue
			}
			return a, nil
		case *http2.HeadersFrame:
			block = append(block[:0], f.HeaderBlockFragment()...)
			ended = f.StreamEnded()
			if !f.HeadersEnded() {
				for {
					cf, err := fr.ReadFrame()
					if err != nil {
						return nil, err
					}
					cont, ok := cf.(*http2.ContinuationFrame)
					if !ok {
						return nil, fmt.Errorf("%T inside a header block", cf)
					}
					block = append(block, cont.HeaderBlockFragment()...)
					if cont.HeadersEnded() {
						break
					}
				}
			}
		default:
			continue
		}
		hf, err := dec.DecodeFull(block)
		if err != nil {
			return nil, err
		}
		var status int
		var fields [][2]string
		for _, h := range hf {
			if h.Name == ":status" {
				status, _ = strconv.Atoi(h.Value)
				continue
			}
			fields = append(fields, [2]string{h.Name, h.Value})
		}
		switch {
		case final:
			a.trailers = fields
		case status >= 100 && status < 200:
			a.interim = append(a.interim, interimString(status, fields))
		default:
			a.status, a.fields, final = status, fields, true
		}
		if ended {
			return a, nil
		}
	}
}

// differentFields lists how got's fields differ from want's: per name (lowercased), the
// list of values in order. Fields that legitimately differ per protocol (hop-by-hop
// framing) are skipped; Date and Age may differ by a second.
func differentFields(want, got *wireAnswer) []string {
	want, got = sameBoundary(want), sameBoundary(got)
	skip := map[string]bool{"connection": true, "keep-alive": true, "transfer-encoding": true}
	names := func(a *wireAnswer) []string {
		var out []string
		for _, f := range a.fields {
			if !skip[f[0]] && !slices.Contains(out, f[0]) {
				out = append(out, f[0])
			}
		}
		return out
	}
	all := names(want)
	for _, n := range names(got) {
		if !slices.Contains(all, n) {
			all = append(all, n)
		}
	}
	var diffs []string
	for _, name := range all {
		w, g := want.values(name), got.values(name)
		if name == "content-length" && len(w) == 0 && len(want.values("transfer-encoding")) > 0 {
			continue // HTTP/1.1 chunked a body whose length another protocol knew by then
		}
		if slices.Equal(w, g) || len(w) == 1 && len(g) == 1 && aboutSame(name, w[0], g[0]) {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s: %q, want %q", name, g, w))
	}
	return diffs
}

// ttl is Cache-Status's ttl parameter (RFC 9211 section 2.5), in seconds.
var ttl = regexp.MustCompile(`ttl=(-?[0-9]+)`)

// aboutSame says two values of Date, Age or Cache-Status (its ttl) are a second apart at most.
func aboutSame(name, a, b string) bool {
	switch name {
	case "age":
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		return err1 == nil && err2 == nil && x-y <= 1 && y-x <= 1
	case "cache-status":
		x, y := ttl.FindStringSubmatch(a), ttl.FindStringSubmatch(b)
		if x == nil || y == nil || ttl.ReplaceAllString(a, "") != ttl.ReplaceAllString(b, "") {
			return false
		}
		return aboutSame("age", x[1], y[1])
	case "date":
		x, err1 := time.Parse(time.RFC1123, a)
		y, err2 := time.Parse(time.RFC1123, b)
		d := x.Sub(y)
		return err1 == nil && err2 == nil && d <= time.Second && d >= -time.Second
	}
	return false
}

// wireProblems lists what RFC 9110 and RFC 9113 forbid in a: connection-specific fields on
// HTTP/2 (RFC 9113 section 8.2.2), content in a HEAD, 204 or 304 (RFC 9110 sections 9.3.2,
// 15.3.5, 15.4.5), a Content-Length in a 204 (section 8.6) or one that differs from the
// content, a field sent twice that is a single value (Date, Content-Type, Content-Length,
// Age, ETag, Last-Modified, Expires, Location; sections 6.6.1, 8.3, 8.6).
func wireProblems(p wireProto, method string, a *wireAnswer) []string {
	var out []string
	if p.h2 {
		for _, f := range a.fields {
			switch f[0] {
			case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
				out = append(out, "connection-specific field on HTTP/2: "+f[0])
			}
			if strings.ToLower(f[0]) != f[0] {
				out = append(out, "uppercase field name on HTTP/2: "+f[0])
			}
		}
		if a.reset {
			out = append(out, "stream reset")
		}
	}
	bodyless := method == "HEAD" || a.status == 204 || a.status == 304
	if bodyless && len(a.body) > 0 {
		out = append(out, fmt.Sprintf("%d content bytes in a %s %d", len(a.body), method, a.status))
	}
	cl := a.values("content-length")
	if a.status == 204 && len(cl) > 0 {
		out = append(out, "Content-Length in a 204")
	}
	if len(cl) == 1 && !bodyless && cl[0] != strconv.Itoa(len(a.body)) {
		out = append(out, fmt.Sprintf("Content-Length %s with %d content bytes", cl[0], len(a.body)))
	}
	for _, single := range []string{"date", "content-type", "content-length", "age", "etag", "last-modified", "expires", "location", "content-range"} {
		if v := a.values(single); len(v) > 1 {
			out = append(out, fmt.Sprintf("%s sent %d times: %q", single, len(v), v))
		}
	}
	return out
}

// boundary is a multipart/byteranges boundary: random, new for every response.
var boundary = regexp.MustCompile(`shoal[0-9a-z]+`)

// purgeID is the id a PURGE's answer names its purge by.
var purgeID = regexp.MustCompile(`"id":"[0-9a-f]+"`)

// sameBoundary is a with every multipart boundary (random, new per response) spelled
// "shoalN" and every purge id "N", and its Content-Length fitted to that.
func sameBoundary(a *wireAnswer) *wireAnswer {
	c := *a
	c.fields = slices.Clone(a.fields)
	for i, f := range c.fields {
		if f[0] == "content-type" && strings.HasPrefix(f[1], "multipart/byteranges") {
			c.fields[i][1] = boundary.ReplaceAllString(f[1], "shoalN")
			c.body = boundary.ReplaceAll(a.body, []byte("shoalN"))
		}
	}
	if slices.Contains(a.values("content-type"), "application/json") {
		c.body = purgeID.ReplaceAll(c.body, []byte(`"id":"N"`)) // new per purge
	}
	if len(c.body) != len(a.body) {
		for i, f := range c.fields {
			if f[0] == "content-length" {
				c.fields[i][1] = strconv.Itoa(len(c.body)) // checked against the content unchanged
			}
		}
	}
	return &c
}

// compareOn sends step over each protocol (to the path pathOf gives it; settle, when not
// nil, runs after each answer) and reports how each answer differs from the first
// protocol's (status, fields, content, trailer fields, interim responses) and what RFC 9110
// and RFC 9113 forbid in it. It returns the answers.
func compareOn(t *testing.T, protos []wireProto, where string, step parityStep, pathOf func(wireProto) string, settle func()) []*wireAnswer {
	t.Helper()
	answers := make([]*wireAnswer, len(protos))
	for i, p := range protos {
		answers[i] = p.ask(t, step.method, pathOf(p), step.header...)
		if settle != nil {
			settle()
		}
		for _, problem := range wireProblems(p, step.method, answers[i]) {
			t.Errorf("%s, %s, %s: %s", where, step.name, p.name, problem)
		}
		if testing.Verbose() {
			a := answers[i]
			t.Logf("%s, %s, %s: %d %q %q %q", where, step.name, p.name, a.status, a.interim, a.fields, a.trailers)
		}
	}
	want, first := sameBoundary(answers[0]), protos[0].name
	for i, got := range answers[1:] {
		got = sameBoundary(got)
		w := fmt.Sprintf("%s, %s, %s", where, step.name, protos[i+1].name)
		if got.status != want.status {
			t.Errorf("%s: status %d, %s %d", w, got.status, first, want.status)
		}
		for _, d := range differentFields(want, got) {
			t.Errorf("%s (%d): %s", w, got.status, d)
		}
		if string(got.body) != string(want.body) {
			t.Errorf("%s: %d content bytes %.40q, %s %d %.40q", w, len(got.body), got.body, first, len(want.body), want.body)
		}
		if fmt.Sprint(got.trailers) != fmt.Sprint(want.trailers) {
			t.Errorf("%s: trailer fields %q, %s %q", w, got.trailers, first, want.trailers)
		}
		if fmt.Sprint(got.interim) != fmt.Sprint(want.interim) {
			t.Errorf("%s: interim %q, %s %q", w, got.interim, first, want.interim)
		}
	}
	return answers
}
