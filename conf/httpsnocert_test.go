package conf

import (
	"errors"
	"testing"
)

// listen.https without tls.certificates was ok to `shoal check`, and `shoal run` then stopped
// with "edge: tls: tlscert: no certificates configured", naming neither key nor line.
func TestParse_httpsListenerNeedsCertificates(t *testing.T) {
	const rest = "origins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, yaml := range []string{
		"listen:\n  https: \"127.0.0.1:8443\"\n",
		"listen:\n  https: \"127.0.0.1:8443\"\ntls: {certificates: []}\n",
		"listen:\n  https: \"127.0.0.1:8443\"\ntls: {redirect_http: true}\n",
	} {
		_, err := Parse([]byte(yaml+rest), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "listen.https" || errs[0].Line != 2 {
			t.Errorf("%q: %v; want one listen.https error on line 2", yaml, err)
		}
	}
}
