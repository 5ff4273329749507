// Package demo is the embedded demo site behind `shoal demo`: small origin servers (static
// files with validators, a dynamic page that keeps a session cookie, health pages) and the
// configuration that puts an edge in front of them. It needs no files and no network beyond
// loopback.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Origin is one demo origin server on loopback.
type Origin struct {
	Name     string
	URL      string
	Requests atomic.Int64

	srv      *http.Server
	mu       sync.Mutex
	sessions map[string]int
	started  time.Time
}

// StartOrigin serves the demo site on 127.0.0.1 with a free port.
func StartOrigin(name string) (*Origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo origin %s: %w", name, err)
	}
	o := &Origin{Name: name, URL: "http://" + ln.Addr().String(), sessions: map[string]int{}, started: time.Now()}
	o.srv = &http.Server{Handler: o.routes(), ReadHeaderTimeout: 5 * time.Second}
	go o.srv.Serve(ln)
	return o, nil
}

// Close stops the server.
func (o *Origin) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return o.srv.Shutdown(ctx)
}

func (o *Origin) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health.html", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "OK") })
	mux.HandleFunc("/health.php", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "OK") })
	mux.HandleFunc("/static/", o.static)
	mux.HandleFunc("/", o.dynamic)
	return mux
}

var staticTypes = map[string]string{".css": "text/css", ".js": "application/javascript", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}

// static serves generated files that are cacheable for a minute and carry validators.
func (o *Origin) static(w http.ResponseWriter, r *http.Request) {
	o.Requests.Add(1)
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	ctype := "application/octet-stream"
	for ext, t := range staticTypes {
		if strings.HasSuffix(name, ext) {
			ctype = t
		}
	}
	body := fmt.Sprintf("/* %s, served by %s */\n%s\n", name, o.Name, strings.Repeat("shoal ", 170))
	etag := fmt.Sprintf("%q", fmt.Sprintf("%x", len(body)+len(name)))
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", o.started.UTC().Format(http.TimeFormat))
	w.Header().Set("Surrogate-Key", "static "+name)
	w.Header().Set("X-Served-By", o.Name)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	fmt.Fprint(w, body)
}

// dynamic is a page per session: never cached, a cookie keeps the visitor's count.
func (o *Origin) dynamic(w http.ResponseWriter, r *http.Request) {
	o.Requests.Add(1)
	id := ""
	if c, err := r.Cookie("DEMOSESSION"); err == nil {
		id = c.Value
	}
	o.mu.Lock()
	if _, ok := o.sessions[id]; !ok || id == "" {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: "DEMOSESSION", Value: id, Path: "/", HttpOnly: true})
	}
	o.sessions[id]++
	visits := o.sessions[id]
	o.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Served-By", o.Name)
	fmt.Fprintf(w, "Hello from %s: %s %s, visit %d of session %s\n", o.Name, r.Method, r.URL.Path, visits, id)
}
