package h2_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/shoal-cdn/shoal/edge/h2"
)

// A hit answered on the connection's goroutine, a miss finished from another one, served
// as h2c with prior knowledge on loopback and fetched with Go's HTTP/2 client.
func Example() {
	hits := map[string][]byte{"/a.css": []byte("body{}")}
	srv, err := h2.NewServer(h2.Config{}, h2.HandlerFunc(func(w h2.ResponseWriter, r *h2.Request) {
		if body, ok := hits[r.Path]; ok {
			w.Respond(200, []h2.Field{{Name: "content-type", Value: "text/css"}}, body)
			return
		}
		w.Detach()
		go func() {
			w.WriteHeader(404, nil)
			w.Write([]byte("not here"))
			w.Close(nil)
		}()
	}))
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true) // HTTP/2 with prior knowledge, no TLS
	client := &http.Client{Transport: &http.Transport{Protocols: &h2c}}
	for _, path := range []string{"/a.css", "/b.css"} {
		resp, err := client.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Proto, resp.StatusCode, string(body))
	}
	ln.Close()
	// Output:
	// HTTP/2.0 200 body{}
	// HTTP/2.0 404 not here
}
