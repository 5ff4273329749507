package origin

import (
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// A pool built in code (not through conf.Load) is held to the file's rules: a weight above
// HAProxy's 256, and a pool whose every server is drained with no backup, are refused.
// Failed before: both were accepted.
func TestValidate_serverWeights(t *testing.T) {
	w := func(n int) *int { return &n }
	for _, c := range []struct {
		servers []conf.Server
		want    string
	}{
		{[]conf.Server{{URL: "http://127.0.0.1:1", Weight: w(257)}}, "servers[0]: weight: 257 is above 256"},
		{[]conf.Server{{URL: "http://127.0.0.1:1", Weight: w(0)}, {URL: "http://127.0.0.1:2", Weight: w(0)}}, "every server weighs 0"},
		{[]conf.Server{{URL: "http://127.0.0.1:1", Weight: w(0)}, {URL: "http://127.0.0.1:2", Weight: w(0), Backup: true}}, ""},
		{[]conf.Server{{URL: "http://127.0.0.1:1", Weight: w(256)}}, ""},
	} {
		err := Validate(&conf.Pool{Name: "p", Servers: c.servers})
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.servers, err, c.want)
		}
	}
}
