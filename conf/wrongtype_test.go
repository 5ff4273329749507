package conf

import (
	"errors"
	"strings"
	"testing"
)

// A value of the wrong type said what yaml.v3 says to a Go programmer ("wrong type: !!seq
// into conf.Limits", "!!str `ten` into int") and, for a flow list, named one of its elements
// (limits[0]) instead of the key. It now says what was written and what the key takes.
func TestParse_wrongTypesSayWhatTheKeyTakes(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, tc := range []struct{ yaml, key, msg string }{
		{"limits: [1, 2]\n", "limits", `wrong type: a list where a mapping is expected`},
		{"limits: {max_conns: ten}\n", "limits.max_conns", `wrong type: "ten" where a whole number (within range) is expected`},
		{"limits: {max_conns: 99999999999999999999}\n", "limits.max_conns", `where a whole number (within range) is expected`},
		{"limits: {underscores_in_headers: maybe}\n", "limits.underscores_in_headers", `wrong type: "maybe" where true or false is expected`},
		{"gslb: {listen: \":53\", zone: c., names: www}\n", "gslb.names", `wrong type: "www" where a list is expected`},
	} {
		_, err := Parse([]byte(rest+tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != 4 || !strings.Contains(errs[0].Msg, tc.msg) {
			t.Errorf("%q: %v; want one %s error on line 4 saying %q", tc.yaml, err, tc.key, tc.msg)
		}
	}
}
