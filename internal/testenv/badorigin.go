package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BadOrigin is an HTTP/1.1 origin on a raw TCP socket (127.0.0.1, port 0) that misbehaves on
// purpose, one script per request: interim (1xx) responses before the final one, bodies cut
// at a chunk boundary, mid-chunk, short of Content-Length or by a TCP reset, close-delimited
// bodies, idle closes, duplicated or huge fields, whatever head a test writes. It keeps a log
// of the raw requests it read. net/http cannot stand in for it: it repairs exactly the
// framing these tests need broken.
//
// Every method is safe for concurrent use; the server stops when the test ends.
type BadOrigin struct {
	Addr string // 127.0.0.1:port
	URL  string // http://Addr

	ln    net.Listener
	t     testing.TB
	mu    sync.Mutex
	route map[string]Handler // by path (the request target without its query)
	def   Handler
	log   []RawRequest
	seen  map[string]int // requests per path
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	nconn int
}

// Handler picks the script of one request. n counts the requests for its path from 0. It
// runs on the connection's goroutine and must be safe for concurrent use.
type Handler func(r RawRequest, n int) Script

// RawRequest is one request as the origin read it.
type RawRequest struct {
	Conn   int    // which connection it came on, from 1 in accept order
	Method string // as sent
	Target string // the request target as sent, e.g. "/p//a.css?x=1"
	Path   string // Target without its query
	Header []Field
	Body   []byte
	Head   []byte // the raw request line and fields, CRLFs included
}

// Get returns the first value of a request field (names compared without case), or "".
func (r RawRequest) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Field is one header line, written as given (duplicates and odd spellings included).
type Field struct{ Name, Value string }

// Framing is how a script delimits its body.
type Framing int

const (
	Length         Framing = iota // Content-Length: len(Body) (the default)
	Chunked                       // Transfer-Encoding: chunked
	CloseDelimited                // neither: the body ends when the connection closes (RFC 9112 section 6.3 item 8)
	NoFraming                     // the script's Header says it all (write Content-Length or Transfer-Encoding yourself)
)

// Cut is how a script ends its response before the body is complete.
type Cut int

const (
	Whole         Cut = iota // the response is complete
	ChunkBoundary            // chunked: every data chunk, then a clean close without the last chunk
	MidChunk                 // chunked: CutAt bytes of a chunk announced larger, then a clean close
	ShortLength              // Content-Length: len(Body) but only CutAt bytes, then a clean close
	Reset                    // CutAt bytes of the body in the script's framing, then a TCP reset (SO_LINGER 0)
)

// Interim is a 1xx response sent before the final one (RFC 9110 section 15.2).
type Interim struct {
	Status int
	Header []Field
}

// Script is one response. The zero Script is "200 OK" with an empty body and Content-Length: 0.
type Script struct {
	Interim []Interim     // sent first, in order
	Delay   time.Duration // before the first byte of the head
	Status  int           // 0 means 200
	Header  []Field       // written as given, after the status line and before the framing fields
	Body    []byte
	Framing Framing
	Chunk   int // chunk size for Chunked; 0 means the whole body in one chunk
	Cut     Cut
	CutAt   int // body bytes sent before a cut (MidChunk, ShortLength, Reset); 0 means half the body
	// Stall, when non-zero, pauses this long after the head and before the body.
	Stall time.Duration
	// Gate, when not nil, holds a Content-Length or close-delimited body after its first
	// Lead bytes (sent with the head) until it is closed, or for 10 s at most: a slow stream
	// a test lets go once it saw what it waits for, without a sleep.
	Gate <-chan struct{}
	Lead int
	// Close closes the connection cleanly after the response (with Connection: close).
	Close bool
	// Hangup closes the connection without any response (after reading the request).
	Hangup bool
	// ResetNow resets the connection without any response (after reading the request).
	ResetNow bool
	// IdleClose closes the connection if no next request arrives within this time after the
	// response, as a server with a keep-alive timeout does (Apache's KeepAliveTimeout). 0 keeps it.
	IdleClose time.Duration
	// Raw, when set, is written instead of everything else: the response bytes exactly.
	// With Close, its last segment carries the FIN: the bytes and the close arrive together.
	Raw []byte
}

// StartBadOrigin starts the origin on 127.0.0.1:0. Paths without a script get "200 OK" with
// body "ok" and Cache-Control: max-age=60.
func StartBadOrigin(t testing.TB) *BadOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &BadOrigin{Addr: ln.Addr().String(), ln: ln, t: t, route: map[string]Handler{}, seen: map[string]int{}, conns: map[net.Conn]struct{}{}}
	o.URL = "http://" + o.Addr
	o.def = Always(Script{Header: Fields("Cache-Control", "max-age=60"), Body: []byte("ok")})
	o.wg.Add(1)
	go o.accept()
	t.Cleanup(o.Close)
	return o
}

// Close stops the origin and closes every connection. It is idempotent.
func (o *BadOrigin) Close() {
	o.ln.Close()
	o.mu.Lock()
	for c := range o.conns {
		c.Close()
	}
	o.mu.Unlock()
	o.wg.Wait()
}

// Handle sets the handler of a path ("" sets the default for every other path).
func (o *BadOrigin) Handle(path string, h Handler) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if path == "" {
		o.def = h
		return
	}
	o.route[path] = h
}

// Script answers every request for path with s.
func (o *BadOrigin) Script(path string, s Script) { o.Handle(path, Always(s)) }

// Sequence answers the n-th request for path with scripts[n]; the last one repeats.
func (o *BadOrigin) Sequence(path string, scripts ...Script) { o.Handle(path, Sequence(scripts...)) }

// Always is a Handler that answers every request with s.
func Always(s Script) Handler { return func(RawRequest, int) Script { return s } }

// Sequence is a Handler that answers the n-th request with scripts[n]; the last one repeats.
func Sequence(scripts ...Script) Handler {
	return func(_ RawRequest, n int) Script { return scripts[min(n, len(scripts)-1)] }
}

// Repeat lists s n times, for bursts in a Sequence (e.g. ten 503s, then the real answer).
func Repeat(s Script, n int) []Script {
	out := make([]Script, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// HugeField is a field whose value is size bytes of 'x'.
func HugeField(name string, size int) Field {
	return Field{Name: name, Value: strings.Repeat("x", size)}
}

// Requests returns the log of the requests read so far, in arrival order.
func (o *BadOrigin) Requests() []RawRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]RawRequest(nil), o.log...)
}

// Count is the number of requests read for path.
func (o *BadOrigin) Count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[path]
}

// Conns is the number of connections accepted so far.
func (o *BadOrigin) Conns() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nconn
}

func (o *BadOrigin) accept() {
	defer o.wg.Done()
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		o.mu.Lock()
		o.nconn++
		id := o.nconn
		o.conns[c] = struct{}{}
		o.mu.Unlock()
		o.wg.Add(1)
		go o.serve(c, id)
	}
}

func (o *BadOrigin) serve(c net.Conn, id int) {
	defer o.wg.Done()
	defer func() {
		o.mu.Lock()
		delete(o.conns, c)
		o.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	var idle time.Duration
	for {
		if idle > 0 {
			c.SetReadDeadline(time.Now().Add(idle))
		} else {
			c.SetReadDeadline(time.Time{})
		}
		req, err := readRawRequest(br, id)
		if err != nil {
			return // the client left, sent garbage, or the idle timeout expired
		}
		c.SetReadDeadline(time.Time{})
		o.mu.Lock()
		h, ok := o.route[req.Path]
		if !ok {
			h = o.def
		}
		n := o.seen[req.Path]
		o.seen[req.Path]++
		o.mu.Unlock()
		s := h(req, n)
		if strings.EqualFold(req.Get("Expect"), "100-continue") && !s.Hangup && !s.ResetNow {
			io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
		}
		if err := readRawBody(br, &req); err != nil {
			return
		}
		o.mu.Lock()
		o.log = append(o.log, req)
		o.mu.Unlock()
		if !writeScript(c, s, req.Method == "HEAD") {
			return
		}
		idle = s.IdleClose
	}
}

// writeScript writes one response; it reports whether the connection may carry another.
// A HEAD response gets the head the script describes and no body.
func writeScript(c net.Conn, s Script, head bool) bool {
	switch {
	case s.ResetNow:
		reset(c)
		return false
	case s.Hangup:
		return false
	}
	time.Sleep(s.Delay)
	w := bufio.NewWriter(c)
	if s.Raw != nil && s.Close {
		corkClose(c, s.Raw)
		return false
	}
	if s.Raw != nil {
		w.Write(s.Raw)
		w.Flush()
		return !s.Close
	}
	for _, in := range s.Interim {
		fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", in.Status, http.StatusText(in.Status))
		writeFields(w, in.Header)
		w.WriteString("\r\n")
		w.Flush()
	}
	status := s.Status
	if status == 0 {
		status = 200
	}
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	writeFields(w, s.Header)
	body, cut := s.Body, s.Cut
	at := s.CutAt
	if at <= 0 || at > len(body) {
		at = len(body) / 2
	}
	bodyless := status == 204 || status == 304
	switch s.Framing {
	case Length:
		if !bodyless || head {
			fmt.Fprintf(w, "Content-Length: %d\r\n", len(body))
		}
	case Chunked:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if s.Close || s.Framing == CloseDelimited {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	w.Flush()
	time.Sleep(s.Stall)
	if bodyless || head {
		return !s.Close
	}
	switch s.Framing {
	case Chunked:
		size := s.Chunk
		if size <= 0 {
			size = max(len(body), 1)
		}
		sent := 0
		for len(body) > 0 {
			k := min(size, len(body))
			chunk := body[:k]
			switch {
			case cut == MidChunk && sent+k > at:
				fmt.Fprintf(w, "%x\r\n", k)
				w.Write(chunk[:at-sent])
				w.Flush()
				closeWrite(c)
				return false
			case cut == Reset && sent+k > at:
				fmt.Fprintf(w, "%x\r\n", k)
				w.Write(chunk[:at-sent])
				w.Flush()
				reset(c)
				return false
			}
			fmt.Fprintf(w, "%x\r\n", k)
			w.Write(chunk)
			w.WriteString("\r\n")
			body, sent = body[k:], sent+k
		}
		switch cut {
		case ChunkBoundary, MidChunk:
			w.Flush()
			closeWrite(c)
			return false
		case Reset:
			w.Flush()
			reset(c)
			return false
		}
		w.WriteString("0\r\n\r\n")
	default:
		if s.Gate != nil {
			lead := min(s.Lead, len(body))
			w.Write(body[:lead])
			w.Flush()
			select {
			case <-s.Gate:
			case <-time.After(10 * time.Second):
			}
			body, at = body[lead:], max(at-lead, 0)
		}
		switch cut {
		case ShortLength, MidChunk, ChunkBoundary:
			w.Write(body[:at])
			w.Flush()
			closeWrite(c)
			return false
		case Reset:
			w.Write(body[:at])
			w.Flush()
			reset(c)
			return false
		}
		w.Write(body)
	}
	w.Flush()
	if s.Framing == CloseDelimited {
		closeWrite(c)
		return false
	}
	return !s.Close
}

func writeFields(w *bufio.Writer, fields []Field) {
	for _, f := range fields {
		w.WriteString(f.Name)
		w.WriteString(": ")
		w.WriteString(f.Value)
		w.WriteString("\r\n")
	}
}

// closeWrite ends the connection with a FIN after what was written: a clean close.
func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		// Let the peer read the FIN before the socket goes away; unread request bytes
		// would otherwise turn the close into a reset.
		tc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		io.Copy(io.Discard, tc)
	}
}

// reset closes the connection with a TCP RST (SO_LINGER 0) instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func readRawRequest(br *bufio.Reader, conn int) (RawRequest, error) {
	var head bytes.Buffer
	line, err := br.ReadString('\n')
	if err != nil {
		return RawRequest{}, err
	}
	head.WriteString(line)
	parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
	if len(parts) != 3 {
		return RawRequest{}, fmt.Errorf("bad request line %q", line)
	}
	req := RawRequest{Conn: conn, Method: parts[0], Target: parts[1], Path: parts[1]}
	if i := strings.IndexByte(req.Target, '?'); i >= 0 {
		req.Path = req.Target[:i]
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return RawRequest{}, err
		}
		head.WriteString(line)
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return RawRequest{}, fmt.Errorf("bad field line %q", line)
		}
		req.Header = append(req.Header, Field{Name: name, Value: strings.TrimSpace(value)})
	}
	req.Head = head.Bytes()
	return req, nil
}

func readRawBody(br *bufio.Reader, req *RawRequest) error {
	if strings.EqualFold(req.Get("Transfer-Encoding"), "chunked") {
		var body []byte
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
			if err != nil {
				return err
			}
			if size == 0 {
				for { // trailer section
					l, err := br.ReadString('\n')
					if err != nil {
						return err
					}
					if strings.TrimRight(l, "\r\n") == "" {
						req.Body = body
						return nil
					}
				}
			}
			chunk := make([]byte, size+2)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return err
			}
			body = append(body, chunk[:size]...)
		}
	}
	if cl := req.Get("Content-Length"); cl != "" {
		size, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad Content-Length %q", cl)
		}
		req.Body = make([]byte, size)
		_, err = io.ReadFull(br, req.Body)
		return err
	}
	return nil
}

// Fields lists header lines from name, value pairs: Fields("ETag", `"v1"`, "Vary", "Accept").
func Fields(nameValue ...string) []Field {
	out := make([]Field, 0, len(nameValue)/2)
	for i := 0; i+1 < len(nameValue); i += 2 {
		out = append(out, Field{Name: nameValue[i], Value: nameValue[i+1]})
	}
	return out
}
