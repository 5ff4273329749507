package conf

import (
	"errors"
	"testing"
)

// Errors promises file order, as nginx -t reads; validation walked sections in an order of
// its own, so purge.allow (line 3) was reported before admin.allow (line 2) and
// trusted_proxies (line 1) last.
func TestParse_problemsComeInFileOrder(t *testing.T) {
	const file = `trusted_proxies: [nope]
admin: {allow: [""]}
purge: {allow: [10.0.0.1]}
listen: {http: ":80"}
origins: {a: {servers: [{url: "http://127.0.0.1:1"}]}}
routes: [{origin: a, match: {path_prefix: x}}]
`
	_, err := Parse([]byte(file), "bad.yaml", "")
	wantProblems(t, err, "bad.yaml", []problem{{1, "trusted_proxies[0]"}, {2, "admin.allow[0]"}, {3, "purge.allow[0]"}, {6, "routes[0].match.path_prefix"}})
}

// problemAt returns the problem at key, else the first: problems come in file order, so the
// one a case is about may follow another on an earlier line that the case brings along.
func problemAt(errs Errors, key string) *Error {
	for _, e := range errs {
		if e.Key == key {
			return e
		}
	}
	return errs[0]
}

// problem is where a test wants a problem: its line and key.
type problem struct {
	line int
	key  string
}

// wantProblems fails unless err is Errors of file holding exactly want, in that order.
func wantProblems(t *testing.T, err error, file string, want []problem) {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse: %v; want Errors", err)
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if errs[i].Line != w.line || errs[i].Key != w.key || errs[i].File != file {
			t.Errorf("problem %d: %v; want %s line %d key %s", i, errs[i], file, w.line, w.key)
		}
	}
}
