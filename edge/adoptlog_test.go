package edge

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// An owner in its adoption window asks the key's runner-up only-if-cached before it fills
// from the origin. When the runner-up has nothing, its 504 is an answer to a peer, not a
// failure: it stays out of the runner-up's access log and of its 5xx count (an operator's
// alert on 5xx fired on every cold key after a restart), and is counted as
// shoal_edge_requests_total{result="miss"}. The client's request is logged once, on the
// owner, with the origin's 200. Failed before: the runner-up logged "status":504 and counted
// class="5xx" for each.
func TestCluster_adoptionProbesAreNotLoggedAsGatewayTimeouts(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; return 200 "ok\n"; }`})
	secret := writeSecret(t)
	logs := []*syncBuffer{{}, {}}
	var nodes []*Node
	for i := range 2 {
		join := "[]"
		if i > 0 {
			join = "[" + nodes[0].Ring().GossipAddr() + "]"
		}
		nodes = append(nodes, startNode(t, fmt.Sprintf(`node: {name: node-%d, region: local}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cluster: {bind: "127.0.0.1:0", join: %s, secret_file: %s}
log: {access: json}
origins: {o: {servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
`, i+1, join, secret, ngx.URL), Options{Logger: testLogger(t), AccessLog: logs[i]}))
	}
	waitMembers(t, nodes, 2)
	path := "/cold.css"
	_, owner, other := hotPair(t, nodes, path)
	if !owner.adopting(time.Now()) {
		t.Fatal("the owner is past its adoption window")
	}
	if status, h, _ := do(t, "GET", "http://"+owner.HTTPAddr()+path, "", "Host", "www.example.com"); status != 200 {
		t.Fatalf("GET through the owner: %d (%s)", status, h.Get("Cache-Status"))
	}
	owner.settleFills()
	otherLog := logs[0]
	if other == nodes[1] {
		otherLog = logs[1]
	}
	metrics := metricsText(t, other)
	if got := labelledValue(metrics, `shoal_edge_requests_total{policy="cache",result="adopt_miss"}`); got != 1 {
		t.Errorf("%s counted %v adoption probes it had nothing for, want 1", other.name, got)
	}
	if got := labelledValue(metrics, `shoal_edge_responses_total{class="5xx"}`); got > 0 {
		t.Errorf("%s counted %v 5xx responses for the owner's adoption probe", other.name, got)
	}
	if strings.Contains(otherLog.String(), `"status":504`) {
		t.Errorf("%s logged the owner's adoption probe as a 504:\n%s", other.name, otherLog)
	}
	// The same object through the other node: its record names the owner it forwarded to
	// (accesslog.go's upstream), the owner's names the origin it filled from.
	if status, _, _ := do(t, "GET", "http://"+other.HTTPAddr()+path, "", "Host", "www.example.com"); status != 200 {
		t.Fatalf("GET through %s: %d", other.name, status)
	}
	if e := nthEntry(t, otherLog, path, 0); e.Upstream != "peer:"+owner.name || e.UpstreamAddr != owner.PeerAddr() || e.UpstreamStatus != 200 {
		t.Errorf("%s logged upstream %q %q %d, want peer:%s %s 200", other.name, e.Upstream, e.UpstreamAddr, e.UpstreamStatus, owner.name, owner.PeerAddr())
	}
	ownerLog := logs[0]
	if owner == nodes[1] {
		ownerLog = logs[1]
	}
	if e := nthEntry(t, ownerLog, path, 0); e.Upstream != "o" || e.UpstreamStatus != 200 {
		t.Errorf("the owner logged upstream %q %d for its miss, want o 200", e.Upstream, e.UpstreamStatus)
	}
}

// labelledValue reads one sample, named with its labels as the text exposition writes them;
// 0 when absent.
func labelledValue(text, series string) float64 {
	if v := metricValue(text, series); v >= 0 {
		return v
	}
	return 0
}
