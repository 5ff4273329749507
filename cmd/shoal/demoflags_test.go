package main

import (
	"bytes"
	"strings"
	"testing"
)

// A demo port out of range was reported against a file the operator never wrote
// ("demo-1.yaml:2: listen.http"), and a stray argument was ignored. Both now name what was
// typed, before anything starts.
func TestDemo_badFlagsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "-port", "99999"}, "-port 99999: want a port from 0 to 65535"},
		{[]string{"demo", "-admin-port", "-1"}, "-admin-port -1: want a port from 0 to 65535"},
		{[]string{"demo", "-dns-port", "70000"}, "-dns-port 70000: want a port from 0 to 65535"},
		{[]string{"demo", "-nodes", "0", "extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "shoal demo: "+tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
