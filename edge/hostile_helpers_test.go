package edge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawLogOrigin is an HTTP/1.1 origin on a raw socket that records every request head exactly
// as it arrived (request line, field lines with their case and order, body) and answers 200,
// max-age=60, with the request-target it received as the body.
type rawLogOrigin struct {
	URL string
	mu  sync.Mutex
	got []rawLogged
}

type rawLogged struct {
	line   string   // request line
	fields []string // "Name: value" as sent
	body   string
}

// values returns every value of the field name (any case), one per line sent.
func (r rawLogged) values(name string) []string {
	var out []string
	for _, f := range r.fields {
		if n, v, ok := strings.Cut(f, ":"); ok && strings.EqualFold(n, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// names lists the field names as sent, one per line.
func (r rawLogged) names() []string {
	out := make([]string, 0, len(r.fields))
	for _, f := range r.fields {
		name, _, _ := strings.Cut(f, ":")
		out = append(out, name)
	}
	return out
}

// h2Req is an HTTP/2 request's fields for https://www.test with method and path, then fields.
func h2Req(method, path string, fields ...[2]string) [][2]string {
	return append([][2]string{{":method", method}, {":scheme", "https"}, {":authority", "www.test"}, {":path", path}}, fields...)
}

func (r rawLogged) target() string {
	parts := strings.Split(r.line, " ")
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}

func startRawLogOrigin(t testing.TB) *rawLogOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &rawLogOrigin{URL: "http://" + ln.Addr().String()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go o.serve(c)
		}
	}()
	return o
}

func (o *rawLogOrigin) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		tp := textproto.NewReader(br)
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		req := rawLogged{line: line}
		length, chunked := 0, false
		for {
			f, err := tp.ReadLine()
			if err != nil {
				return
			}
			if f == "" {
				break
			}
			req.fields = append(req.fields, f)
			name, v, _ := strings.Cut(f, ":")
			switch strings.ToLower(name) {
			case "content-length":
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			case "transfer-encoding":
				chunked = true
			}
		}
		body, err := readRawBody(br, length, chunked)
		if err != nil {
			return
		}
		req.body = body
		o.mu.Lock()
		o.got = append(o.got, req)
		o.mu.Unlock()
		target := req.target()
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(target), target)
	}
}

func readRawBody(br *bufio.Reader, length int, chunked bool) (string, error) {
	if !chunked {
		b := make([]byte, length)
		_, err := io.ReadFull(br, b)
		return string(b), err
	}
	var body strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 32)
		if err != nil {
			return "", errors.New("bad chunk size")
		}
		if size == 0 {
			_, err := br.ReadString('\n')
			return body.String(), err
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", err
		}
		body.Write(b[:size])
	}
}

// requests is a copy of everything received so far.
func (o *rawLogOrigin) requests() []rawLogged {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]rawLogged(nil), o.got...)
}

// asked lists the request-targets the origin received for paths starting with prefix.
func (o *rawLogOrigin) asked(prefix string) []string {
	var out []string
	for _, r := range o.requests() {
		if strings.HasPrefix(r.target(), prefix) {
			out = append(out, r.target())
		}
	}
	return out
}

// converse writes raw on a new connection and reads until the server closes it. closed is
// false when the server still held the connection open after wait.
func converse(t testing.TB, addr, raw string, wait time.Duration) (out string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, raw)
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c)
	var ne net.Error
	return string(b), !(errors.As(err, &ne) && ne.Timeout())
}

// statusLines lists the status lines in a stream of HTTP/1.1 responses.
func statusLines(stream string) []string {
	var out []string
	for _, l := range strings.Split(stream, "\r\n") {
		if strings.HasPrefix(l, "HTTP/1.") {
			out = append(out, l)
		}
	}
	return out
}

// hostileConfig routes /dyn/ as pass, /s/ as cache with sorted parameters, and everything
// else as cache, all to one origin.
func hostileConfig(origin string, extra string) string {
	return extra + `node: {name: hostile-edge}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}
origins:
  o:
    servers: [{url: ` + origin + `}]
routes:
  - {match: {path_prefix: /dyn/}, origin: o, cache: false}
  - {match: {path_prefix: /s/}, origin: o, cache: true, cache_key: {sort_params: true}}
  - {match: {path_prefix: /}, origin: o, cache: true}
`
}
