package conf

import (
	"fmt"
	"strings"
	"testing"
)

// A key whose feature another key leaves off was ok without a word: a pool with
// health.expect_status but no health.path was never probed (haproxy -c warns of
// "http-check expect" without "option httpchk"), a burst without a rate limited nothing.
func TestWarnings_keysTheirFeatureLeavesUnused(t *testing.T) {
	const file = `listen: {http: ":80"}
origins:
  a:
    servers: [{url: "http://127.0.0.1:1"}]
    health: {expect_status: 204, interval: 5s}
    sticky: {max_age: 1h}
  b:
    servers: [{url: "http://127.0.0.1:2"}]
    health: {path: /h, expect_status: 204}
    sticky: {cookie: S, max_age: 1h}
routes:
  - {match: {path_prefix: /b/}, origin: b, rate_limit: {rate: 5, burst: 10}}
  - {origin: a, rate_limit: {burst: 40}}
vip: {interface: lo}
`
	cfg, err := Parse([]byte(file), "w.yaml", "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, w := range Warnings(cfg, "w.yaml", []byte(file)) {
		if !strings.Contains(w.Msg, "warning: not used") {
			t.Errorf("warning %v: want it to say the key is not used", w)
		}
		got = append(got, fmt.Sprintf("%s@%d", w.Key, w.Line))
	}
	want := "origins.a.health.expect_status@5 origins.a.sticky.max_age@6 routes[1].rate_limit.burst@13 vip.interface@14"
	if strings.Join(got, " ") != want {
		t.Errorf("warnings %v\nwant %s", got, want)
	}
}
