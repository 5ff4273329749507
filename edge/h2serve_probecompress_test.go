package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// A fresh hit whose compressed variant is not stored yet is not answered on the HTTP/2
// connection's goroutine: variantFor would compress the whole object there, and every other
// stream of the connection would wait for it. Once the variant is stored, the hit is inline
// again; a client that takes identity never waits for a coder.
func TestH2Serve_probeLeavesVariantMakingDetached(t *testing.T) {
	text := strings.Repeat("body { color: #123456; margin: 0 auto; }\n", 200)
	n, _ := compressionNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, text)
	})
	url := "http://" + n.HTTPAddr() + "/site.css"
	rawGet(t, url) // identity: stores the object, no variant
	n.settleFills()

	probe := func(accept string) bool {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("GET")
		ctx.Request.SetRequestURI("/site.css")
		ctx.Request.Header.SetHost(n.HTTPAddr())
		if accept != "" {
			ctx.Request.Header.Set("Accept-Encoding", accept)
		}
		return n.freshHit(&n.getHTTP1(&ctx).x, new(probeResult)) != nil
	}
	if !probe("") {
		t.Fatal("setup: an identity hit is not inline")
	}
	if probe("gzip") {
		t.Error("a hit that must first compress its gzip variant was answered on the connection's goroutine")
	}
	rawGet(t, url, "Accept-Encoding", "gzip") // makes and stores the variant
	n.settleFills()
	if !probe("gzip") {
		t.Error("a hit on a stored gzip variant is not inline")
	}
	if !probe("identity") {
		t.Error("an identity hit of a compressible object is not inline")
	}
}
