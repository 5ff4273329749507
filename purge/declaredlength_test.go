package purge

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// A body declared larger than the API takes was read until it came: MaxBytesReader counts
// what arrives, so `Content-Length: 99999999999` ahead of a short body held the request,
// without an answer, until the client gave up. It now gets 413 from the head alone, on the
// admin API and on the peer port alike.
func TestHandlers_refuseADeclaredOversizedBodyFromTheHead(t *testing.T) {
	svc := newTestService(t, conf.Purge{Token: testToken}, newTestMemory(t), StaticCluster{Name: "edge-1"}, Options{Secret: testSecret})
	for name, tc := range map[string]struct {
		handler http.Handler
		head    string
	}{
		"admin": {svc.AdminHandler(), "POST /purge HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + testToken + "\r\n"},
		"peer":  {svc.PeerHandler(), "POST " + PeerPath + " HTTP/1.1\r\nHost: a\r\n" + SecretHeader + ": " + testSecret + "\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The deadline only turns a hang into a failure; the answer needs no waiting.
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write([]byte(tc.head + "Content-Length: 99999999999\r\n\r\n{\"key\": \"a\"}")); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to a declared 99999999999-byte body: %v", err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d; want 413", res.StatusCode)
			}
		})
	}
}
