package conf

import (
	"errors"
	"strings"
	"testing"
)

// limits that ran a node out of memory were ok: max_header_bytes is every HTTP/1.1
// connection's read buffer (64GiB: the first connection ended the process), and a body up to
// max_body_bytes is allocated whole from its Content-Length before a byte of it arrives
// (100GiB: one request claiming 50GiB ended it).
func TestParse_limitsAboveWhatMemoryHolds(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	cases := []struct{ limits, key, msg string }{
		{"limits:\n  max_header_bytes: 64GiB\n", "limits.max_header_bytes", "above 1MiB"},
		{"limits:\n  max_header_bytes: 1025KiB\n", "limits.max_header_bytes", "above 1MiB"},
		{"limits:\n  max_body_bytes: 100GiB\n", "limits.max_body_bytes", "above 1GiB"},
		{"limits:\n  max_body_bytes: 1025MiB\n", "limits.max_body_bytes", "above 1GiB"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.limits+rest), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != 2 || !strings.Contains(errs[0].Msg, tc.msg) {
			t.Errorf("%q: %v; want %s at line 2: %s", tc.limits, err, tc.key, tc.msg)
		}
	}
	if _, err := Parse([]byte("limits: {max_header_bytes: 1MiB, max_body_bytes: 1GiB}\n"+rest), "good.yaml", ""); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}
