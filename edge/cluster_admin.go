package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

// mountClusterAdmin adds the purge API to the admin mux. The purge service does its own
// token and CIDR checks on top of the admin listener's.
func (n *Node) mountClusterAdmin(mux *http.ServeMux) {
	mux.Handle("/purge", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.purge == nil {
			http.Error(w, "purge service not running", http.StatusServiceUnavailable)
			return
		}
		n.purge.AdminHandler().ServeHTTP(w, r)
	}))
}

// purgeMethod answers the Varnish-style PURGE method on the data port: the request URL,
// every variant, cluster-wide, for clients in purge.allow.
func (n *Node) purgeMethod(ctx *fasthttp.RequestCtx) string {
	if n.purge == nil || !n.purge.AllowPurgeMethod(clientAddr(ctx)) {
		n.metrics.rejected.WithLabelValues("purge_forbidden").Inc()
		plainError(ctx, fasthttp.StatusForbidden, "forbidden: PURGE is accepted only from purge.allow")
		return "rejected"
	}
	url := scheme(ctx) + "://" + string(ctx.Host()) + string(ctx.RequestURI())
	// Not ctx: fasthttp recycles a RequestCtx, and the fan-out may outlive the request.
	pctx, cancel := context.WithTimeout(context.Background(), n.rt.Load().cfg.Purge.Timeout.D()+time.Second)
	defer cancel()
	res, err := n.purge.PurgeMethod(pctx, url, softPurgeRequested(&ctx.Request.Header))
	if err != nil {
		plainError(ctx, fasthttp.StatusBadRequest, "purge: "+err.Error())
		return "error"
	}
	ctx.SetContentType("application/json")
	body, _ := json.Marshal(res) // the admin API's answer, for the same purge
	ctx.SetBody(append(body, '\n'))
	return "purged"
}

// softPurgeRequested reports whether a PURGE asks to mark stale instead of remove
// ("Purge-Mode: soft", Varnish's and Fastly's shape). Field names and the token are
// case-insensitive (RFC 9110 section 5.1); the listener keeps names as the client spelled them.
func softPurgeRequested(h *fasthttp.RequestHeader) bool {
	return bytes.EqualFold(bytes.TrimSpace(peekFold(h, "Purge-Mode")), []byte("soft"))
}
