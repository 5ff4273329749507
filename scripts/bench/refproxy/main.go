// Command refproxy is make bench's floor for the pass row: the smallest reverse proxy the
// same stack allows (a fasthttp server, a fasthttp.HostClient to one origin), no cache, no
// routes, no metrics, the request head forwarded as it came. Shoal's pass next to it in one
// run says what Shoal's own code costs over the stack's (issue 15).
//
// Usage: refproxy -listen 127.0.0.1:18312 -origin 127.0.0.1:18300
package main

import (
	"flag"
	"log/slog"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18312", "address to serve HTTP/1.1 on")
	originAddr := flag.String("origin", "127.0.0.1:18300", "origin address (host:port)")
	flag.Parse()
	client := &fasthttp.HostClient{Addr: *originAddr}
	server := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if err := client.Do(&ctx.Request, &ctx.Response); err != nil {
				ctx.Error("bad gateway", fasthttp.StatusBadGateway)
			}
		},
		NoDefaultServerHeader: true,
	}
	if err := server.ListenAndServe(*listen); err != nil {
		slog.Error("refproxy", "err", err)
		os.Exit(1)
	}
}
