package statefultest

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// origin is the test origin. Every body names the serial of the response that carried it,
// the content version of its path, the path and the X-V field it was made for, and its own
// length, so the model can tell which origin answer a body came from and whether it is whole.
// The version of a path changes only when the test bumps it (before a purge).
type origin struct {
	URL string
	srv *http.Server

	mu       sync.Mutex
	versions map[string]int // path -> content version (1 when never bumped)
	log      []originReq    // by serial-1
	// notModified counts 304 answers to revalidations.
	notModified int
}

// originReq is one request the origin answered with a body.
type originReq struct {
	path      string
	version   int
	xv        string
	xvPresent bool
	at        time.Time
}

// startOrigin listens on 127.0.0.1:0 until close.
func startOrigin() (*origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &origin{URL: "http://" + ln.Addr().String(), versions: map[string]int{}}
	o.srv = &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second}
	go o.srv.Serve(ln)
	return o, nil
}

func (o *origin) close() { o.srv.Close() }

// class is how the origin answers a path, by its first segment.
type class struct {
	cacheControl string
	vary         bool
	size         int // body bytes, before the per-path spread
}

func classOf(path string) class {
	switch {
	case strings.HasPrefix(path, "/v/"):
		return class{cacheControl: "max-age=30", vary: true, size: 2 << 10}
	case strings.HasPrefix(path, "/s/"):
		// Short-lived with validators: revalidations (304) and stale serving.
		return class{cacheControl: "max-age=1, stale-while-revalidate=2", size: 3 << 10}
	case strings.HasPrefix(path, "/big/"):
		return class{cacheControl: "max-age=30", size: 96 << 10}
	default:
		return class{cacheControl: "max-age=30", size: 4 << 10}
	}
}

// tagOf is the surrogate key of a path: paths share tags across prefixes.
func tagOf(path string) string { return fmt.Sprintf("g%d", spread(path)%3) }

func spread(path string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(path))
	return h.Sum32()
}

func etag(path string, version int) string { return fmt.Sprintf("\"%x-%d\"", spread(path), version) }

func (o *origin) version(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return max(o.versions[path], 1)
}

// bump changes the content of paths and returns their new versions.
func (o *origin) bump(paths []string) map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(paths))
	for _, p := range paths {
		o.versions[p] = max(o.versions[p], 1) + 1
		out[p] = o.versions[p]
	}
	return out
}

// request returns what the origin logged for serial, if it sent that serial.
func (o *origin) request(serial int) (originReq, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if serial < 1 || serial > len(o.log) {
		return originReq{}, false
	}
	return o.log[serial-1], true
}

// counts returns the responses sent with a body and the 304s.
func (o *origin) counts() (bodies, notModified int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.log), o.notModified
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if r.Method == http.MethodPost {
		// An unsafe request changes the resource: its next version.
		o.bump([]string{path})
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("updated\n"))
		return
	}
	c := classOf(path)
	xvs, xvPresent := r.Header["X-V"]
	xv := strings.Join(xvs, ",")

	o.mu.Lock()
	version := max(o.versions[path], 1)
	tag := etag(path, version)
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Cache-Control", c.cacheControl)
	h.Set("ETag", tag)
	h.Set("Surrogate-Key", tagOf(path)+" all-objects")
	if c.vary {
		h.Set("Vary", "X-V")
	}
	if inm := r.Header.Get("If-None-Match"); inm == tag {
		o.notModified++
		o.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	o.log = append(o.log, originReq{path: path, version: version, xv: xv, xvPresent: xvPresent, at: time.Now()})
	serial := len(o.log)
	o.mu.Unlock()

	body := makeBody(serial, version, path, xv, xvPresent, c.size+int(spread(path)%2048))
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
}

// makeBody builds a body of exactly size bytes (or its head alone, if longer):
// "serial=N version=N path=P xv=X len=NNNNNNNN\n" + filler + "\nend\n".
func makeBody(serial, version int, path, xv string, xvPresent bool, size int) []byte {
	if !xvPresent {
		xv = "-"
	} else {
		xv = "=" + xv
	}
	head := fmt.Sprintf("serial=%d version=%d path=%s xv%s len=", serial, version, path, xv)
	const tail = "\nend\n"
	n := max(size, len(head)+9+len(tail))
	b := make([]byte, 0, n)
	b = append(b, head...)
	b = append(b, fmt.Sprintf("%08d\n", n)...)
	for len(b) < n-len(tail) {
		b = append(b, 'a'+byte(len(b)%26))
	}
	return append(b, tail...)
}

// body is a parsed origin body.
type body struct {
	serial, version int
	path, xv        string // xv is "-" when the request had no X-V, else "=" + its value
}

// parseBody reads a body made by makeBody; the error says how it is not whole.
func parseBody(b []byte) (body, error) {
	line, _, ok := strings.Cut(string(b[:min(len(b), 512)]), "\n")
	if !ok {
		return body{}, fmt.Errorf("no head line in %d bytes", len(b))
	}
	var out body
	var xv string
	var n int
	if _, err := fmt.Sscanf(line, "serial=%d version=%d path=%s xv%s len=%d", &out.serial, &out.version, &out.path, &xv, &n); err != nil {
		return body{}, fmt.Errorf("head %q: %v", line, err)
	}
	out.xv = xv
	if n != len(b) {
		return out, fmt.Errorf("%d bytes, the origin sent %d", len(b), n)
	}
	if !strings.HasSuffix(string(b), "\nend\n") {
		return out, fmt.Errorf("no end marker")
	}
	return out, nil
}
