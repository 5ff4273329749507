package origin

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"
)

func BenchmarkPool_pick(b *testing.B) {
	for _, name := range []string{"roundrobin", "leastconn", "random2", "source", "uri", "first"} {
		b.Run(name, func(b *testing.B) {
			p, err := NewPool(poolConf(name, fakeURLs(8)...), Options{})
			if err != nil {
				b.Fatal(err)
			}
			targets := make([]Target, 256)
			for i := range targets {
				targets[i] = Target{ClientIP: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), HashKey: "/obj/" + strconv.Itoa(i)}
			}
			i := 0
			for b.Loop() {
				s, _, err := p.acquire(&targets[i%len(targets)], nil)
				if err != nil {
					b.Fatal(err)
				}
				p.release(s)
				i++
			}
		})
	}
}

func BenchmarkPool_Do(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBody(body) }}
	go srv.Serve(ln)
	defer srv.Shutdown()
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		buf := make([]byte, 4096)
		for pb.Next() {
			req.SetRequestURI("http://www.example.com/bench")
			_, done, err := p.Do(req, resp, Target{Idempotent: true})
			if err != nil {
				b.Error(err)
				return
			}
			for {
				if _, err := resp.BodyStream().Read(buf); err == io.EOF {
					break
				} else if err != nil {
					b.Error(err)
					return
				}
			}
			done()
		}
	})
}
