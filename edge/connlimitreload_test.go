package edge

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// A reload that changes limits starts a new fasthttp server generation, and fasthttp counts
// max_conns and max_conns_per_ip per server: connections open before the reload (still
// served by the old generation) were not counted by the new one, so after a reload a client
// holding the limit's worth could open as many again. Its neighbours: a limit set by the
// reload itself (0 before: nothing was counted per address), max_conns, and HTTPS.
func TestNode_connLimitsCountConnectionsOpenBeforeAReload(t *testing.T) {
	o, arrived, release := startHeldOrigin(t, "/slow", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	defer release() // before the nodes stop
	certFile, keyFile, pool := writeCert(t, t.TempDir(), "site", "www.example.test", "www.test")
	for _, c := range []struct {
		key    string
		before string // the limits at start
		tls    bool
		status int
	}{
		{"max_conns_per_ip", "max_conns_per_ip: 2", false, http.StatusTooManyRequests},
		{"max_conns_per_ip", "read_timeout: 20s", false, http.StatusTooManyRequests},
		{"max_conns", "max_conns: 2", false, http.StatusServiceUnavailable},
		{"max_conns", "read_timeout: 20s", false, http.StatusServiceUnavailable},
		{"max_conns_per_ip", "max_conns_per_ip: 2", true, http.StatusTooManyRequests},
		{"max_conns", "read_timeout: 20s", true, http.StatusServiceUnavailable},
	} {
		t.Run(fmt.Sprintf("%s from %s tls=%v", c.key, c.before, c.tls), func(t *testing.T) {
			listen := "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
			if c.tls {
				listen = "listen: {https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
			}
			tlsSection := fmt.Sprintf("tls: {certificates: [{cert: %s, key: %s}]}\n", certFile, keyFile)
			n := startNode(t, listen+tlsSection+oneRoute(false, o.URL)+"limits: {"+c.before+"}\n", Options{})
			dial := func() (net.Conn, error) { return net.Dial("tcp", n.HTTPAddr()) }
			if c.tls {
				dial = func() (net.Conn, error) {
					return tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: pool, ServerName: "www.example.test", NextProtos: []string{"http/1.1"}})
				}
			}
			// Two connections with a response in progress: a reload lets them finish on the
			// generation before (idle ones it closes).
			for range 2 {
				conn, err := dial()
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := fmt.Fprintf(conn, "GET /slow HTTP/1.1\r\nHost: www.test\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				<-arrived
			}
			after := listen + tlsSection + oneRoute(false, o.URL) + fmt.Sprintf("limits: {%s: 2, read_timeout: 30s}\n", c.key)
			if err := reloadYAML(t, n, after); err != nil {
				t.Fatal(err)
			}
			over, err := dial()
			if err != nil {
				t.Fatal(err)
			}
			defer over.Close()
			st, err := rawGET(t, over, bufio.NewReader(over), "/a")
			if st != c.status {
				t.Errorf("a third connection after the reload got status %d (%v), want %d: the two open before it were not counted", st, err, c.status)
			}
		})
	}
}

// reloadYAML reloads n with yaml, its listen section replaced by the addresses n is bound to.
func reloadYAML(t *testing.T, n *Node, yaml string) error {
	t.Helper()
	cfg, err := conf.Parse([]byte(yaml), "reload.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = n.rt.Load().cfg.Listen
	return n.Reload(cfg)
}
