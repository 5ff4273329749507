package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// Rules cost nothing on routes that do not use them, and little on those that do (issue 17):
// a 1 KiB hit without policy, and the same hit on a route with 5 response field rules.
// Run: go test -run '^$' -bench 'Node_hitPolicy' -benchmem -count 5 ./edge/ (rules=0, rules=5,
// and example: the policy make bench's shoal-policy target loads).
func BenchmarkNode_hitPolicy(b *testing.B) {
	body := strings.Repeat("x", 1024)
	o := startOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Powered-By", "PHP/8.2")
		w.Write([]byte(body))
	})
	head := "node: {name: bench}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\nroutes:\n"
	b.Run("rules=0", func(b *testing.B) {
		n := startNode(b, head+"  - {match: {path_prefix: /}, origin: o, cache: true}\n", Options{})
		benchDrive(b, n, "/1k.bin", fasthttp.StatusOK)
	})
	b.Run("rules=5", func(b *testing.B) {
		n := startNode(b, head+`  - match: {path_prefix: /}
    origin: o
    cache: true
    headers:
      response:
        set:
          Strict-Transport-Security: "max-age=31536000"
          X-Content-Type-Options: nosniff
          X-Frame-Options: SAMEORIGIN
          Referrer-Policy: strict-origin-when-cross-origin
        remove: [X-Powered-By]
`, Options{})
		benchDrive(b, n, "/1k.bin", fasthttp.StatusOK)
	})
	// The example policy make bench's shoal-policy target loads (scripts/bench/configs.sh,
	// from examples/wordpress/shoal.yaml): node-wide ignore_params and the 5 field rules, a
	// ttl override and cookies stripped both ways on the cache route.
	b.Run("example", func(b *testing.B) {
		n := startNode(b, "node: {name: bench}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: "+o.URL+"}]}\n"+`policy:
  cache_key:
    ignore_params: ["utm_*", gclid, fbclid, msclkid, mc_cid, mc_eid, _ga]
  headers:
    response:
      set:
        Strict-Transport-Security: "max-age=31536000"
        X-Content-Type-Options: nosniff
        X-Frame-Options: SAMEORIGIN
        Referrer-Policy: strict-origin-when-cross-origin
      remove: [X-Powered-By]
routes:
  - {match: {path_prefix: /pass/}, origin: o, cache: false}
  - match: {path_prefix: /}
    origin: o
    cache: true
    ttl: {status: {200: 1d, 404: 1m}, override: true}
    cookies: {strip_request: true, strip_set_cookie: true}
`, Options{})
		benchDrive(b, n, "/1k.bin", fasthttp.StatusOK)
	})
}
