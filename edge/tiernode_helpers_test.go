package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// startTierNode runs a node for large-object tests: memory keeps objects up to 1 MiB, and with
// tier "disk" a disk tier (disk is its size keys, e.g. "size: 128MiB, max_object_size: 32MiB")
// takes larger ones; tier "none" has no disk. Both HTTP/1.1 and h2c listen.
func startTierNode(t *testing.T, originURL, tier, disk string) *Node {
	t.Helper()
	yaml := `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
` + oneRoute(true, originURL)
	yaml = strings.Replace(yaml, "max_object_size: 8MiB", "max_object_size: 1MiB", 1)
	if tier == "disk" {
		yaml = strings.Replace(yaml, "fill_timeout: 5s}", fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, %s}}", t.TempDir(), disk), 1)
	}
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	if tier == "disk" {
		waitDiskReady(t, n)
	}
	return n
}

// protoClient is the client and address that speak proto ("HTTP/1.1" or "HTTP/2", h2c) to n.
func protoClient(n *Node, proto string) (*http.Client, string) {
	if proto == "HTTP/2" {
		return h2cClient(), n.H2CAddr()
	}
	return http.DefaultClient, n.HTTPAddr()
}
