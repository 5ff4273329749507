package h2

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testHandler answers like the cache pipeline will: GETs synchronously from memory (a hit),
// requests with content and /async/ paths from another goroutine (a miss or a pass).
//
//	/             "hello, h2" padded to 1 KiB
//	/size/N       N bytes of pattern
//	/async/N      N bytes, written by a detached goroutine in 4 KiB chunks after a 103
//	/chunks/N     N bytes by synchronous Writes from one reused buffer, then trailers
//	/abort        header and 1 KiB, then Abort
//	/silent       the handler returns without answering
//	anything with content: echoes it (detached)
type testHandler struct{}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

var page1k = append([]byte("hello, h2\n"), bytes.Repeat([]byte("."), 1024-10)...)

func (testHandler) ServeH2(w ResponseWriter, r *Request) {
	hdr := []Field{{Name: "content-type", Value: "text/plain"}}
	switch {
	case !r.Body.Drained():
		w.Detach()
		go func() {
			got, err := io.ReadAll(r.Body)
			if err != nil {
				w.Abort()
				return
			}
			w.Respond(200, hdr, got)
		}()
	case strings.HasPrefix(r.Path, "/size/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(r.Path, "/size/"))
		w.Respond(200, hdr, pattern(n))
	case strings.HasPrefix(r.Path, "/async/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(r.Path, "/async/"))
		w.Detach()
		go func() {
			w.WriteInterim(103, []Field{{Name: "link", Value: "</style.css>; rel=preload"}})
			w.WriteHeader(200, hdr)
			body := pattern(n)
			for len(body) > 0 {
				k := min(len(body), 4096)
				if _, err := w.Write(body[:k]); err != nil {
					w.Abort()
					return
				}
				body = body[k:]
			}
			w.Close(nil)
		}()
	case strings.HasPrefix(r.Path, "/chunks/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(r.Path, "/chunks/"))
		w.WriteHeader(200, hdr)
		body, buf := pattern(n), make([]byte, 10000)
		for len(body) > 0 {
			k := copy(buf, body)
			w.Write(buf[:k])
			clear(buf) // Write must have sent or copied what it took
			body = body[k:]
		}
		w.Close([]Field{{Name: "x-checksum", Value: "done"}})
	case r.Path == "/abort":
		w.WriteHeader(200, hdr)
		w.Write(pattern(1024))
		w.Abort()
	case r.Path == "/silent":
	default:
		w.Respond(200, hdr, page1k)
	}
}

type testServer struct {
	srv  *Server
	ln   net.Listener
	Addr string
	TLS  bool
}

// startServer serves h on 127.0.0.1:0, with TLS (ALPN h2, a fresh self-signed
// certificate) or as h2c with prior knowledge.
func startServer(t testing.TB, cfg Config, h Handler, useTLS bool) *testServer {
	t.Helper()
	if h == nil {
		h = testHandler{}
	}
	srv, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, Addr: ln.Addr().String(), TLS: useTLS}
	if useTLS {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}, NextProtos: []string{"h2"}})
	}
	ts.ln = ln
	go srv.Serve(ln)
	t.Cleanup(func() {
		ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ts
}

func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
