package conf

import (
	"errors"
	"strings"
	"testing"
)

// Addresses that others dial were checked as listeners are, where ":7946" and "0.0.0.0"
// mean every local address: a join target of ":7946" or "" and an advertised "0.0.0.0:7946"
// were ok, though they send a node (and every peer) to itself. A public_addr of 0.0.0.0,
// handed out by DNS, and a targeted field no response can carry were ok too.
func TestParse_addressesOthersDialMustNameAHost(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, tc := range []struct{ yaml, key, msg string }{
		{`cluster: {join: [":7946"]}`, "cluster.join[0]", "has no host"},
		{`cluster: {join: ["192.0.2.1:7946", ""]}`, "cluster.join[1]", "not host:port"},
		{`cluster: {join: ["0.0.0.0:7946"]}`, "cluster.join[0]", "every address"},
		{`cluster: {join: ["192.0.2.1:0"]}`, "cluster.join[0]", "port must be"},
		{`cluster: {advertise: ":7946"}`, "cluster.advertise", "has no host"},
		{`cluster: {advertise: "[::]:7946"}`, "cluster.advertise", "every address"},
		{`node: {public_addr: 0.0.0.0}`, "node.public_addr", "not an address a client can connect to"},
		{`node: {public_addr: "::"}`, "node.public_addr", "not an address a client can connect to"},
		{`node: {public_addr: 224.0.0.1}`, "node.public_addr", "not an address a client can connect to"},
		{`cache: {targeted_field: "Shoal Cache"}`, "cache.targeted_field", "not a header field name"},
		{`cache: {targeted_field: "X:Y"}`, "cache.targeted_field", "not a header field name"},
	} {
		_, err := Parse([]byte(rest+tc.yaml+"\n"), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != 4 || !strings.Contains(errs[0].Msg, tc.msg) {
			t.Errorf("%s: %v; want one %s error on line 4 saying %q", tc.yaml, err, tc.key, tc.msg)
		}
	}
	ok := rest + "cluster: {join: [\"edge-2.example:7946\", \"[2001:db8::1]:7946\"], advertise: \"192.0.2.11:7946\"}\nnode: {public_addr: \"2001:db8::11\"}\ncache: {targeted_field: CDN-Cache-Control}\n"
	if _, err := Parse([]byte(ok), "ok.yaml", ""); err != nil {
		t.Errorf("reachable addresses: %v", err)
	}
}
