package edge

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// adminHandler serves the admin listener: metrics and health. Every path answers only the
// configured client networks (loopback by default).
func (n *Node) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !n.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /stats", n.statsPage)
	mux.HandleFunc("GET /stats.json", n.statsJSON)
	if n.configFile != "" {
		mux.HandleFunc("POST /reload", n.reloadHandler)
	}
	n.mountClusterAdmin(mux)
	return n.adminGuard(mux)
}

// adminGuard refuses clients outside admin.allow with 403.
func (n *Node) adminGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !n.adminAllowed(r.RemoteAddr) {
			n.metrics.rejected.WithLabelValues("admin_forbidden").Inc()
			// The reason names the key: "local clients only" was wrong once admin.allow
			// named other networks, and sent the operator looking at the listener.
			http.Error(w, "forbidden: the client's address is not in admin.allow", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (n *Node) adminAllowed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, c := range n.rt.Load().cfg.Admin.Allow {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}
