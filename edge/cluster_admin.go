package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"
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
// every variant, cluster-wide, for clients in purge.allow. Not from a front proxy in
// trusted_proxies: every client behind it has its address, so allowing the proxy's network
// would let anyone purge through it (Varnish's client.ip trap); those purge on the admin API.
func (p *pipeline) purgeMethod(x *exchange) string {
	client := x.clientAddr()
	if p.purge == nil || p.rt.Load().trusted(client) || !p.purge.AllowPurgeMethod(client) {
		p.metrics.rejected.WithLabelValues("purge_forbidden").Inc()
		plainError(x, http.StatusForbidden, "forbidden: PURGE is accepted only from purge.allow, and not through a proxy in trusted_proxies")
		return "rejected"
	}
	url := x.scheme() + "://" + string(x.req.Host()) + string(x.req.RequestURI())
	// Not the request's: the fan-out may outlive it.
	pctx, cancel := context.WithTimeout(context.Background(), p.rt.Load().cfg.Purge.Timeout.D()+time.Second)
	defer cancel()
	res, err := p.purge.PurgeMethod(pctx, url, softPurgeRequested(x.req))
	if err != nil {
		plainError(x, http.StatusBadRequest, "purge: "+err.Error())
		return "error"
	}
	x.resp.Head().SetContentType("application/json")
	body, _ := json.Marshal(res) // the admin API's answer, for the same purge
	x.resp.SetBody(append(body, '\n'))
	return "purged"
}

// softPurgeRequested reports whether a PURGE asks to mark stale instead of remove
// ("Purge-Mode: soft", Varnish's and Fastly's shape). Field names and the token are
// case-insensitive (RFC 9110 section 5.1); the listener keeps names as the client spelled them.
func softPurgeRequested(h *fieldList) bool {
	return bytes.EqualFold(trimOWS(h.Peek("Purge-Mode")), []byte("soft"))
}
