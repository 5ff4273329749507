package edge

import (
	"strings"
	"testing"
	"time"
)

// TestNode_ownOptionsAnswersCheckHostAndTarget: the OPTIONS requests the node answers itself
// (OPTIONS *, and OPTIONS with Max-Forwards: 0) are requests like any other: RFC 9112 section
// 3.2 asks 400 of an HTTP/1.1 request whose Host is invalid whatever its target, and a
// target the node refuses on a GET it refuses here too, the connection closed after, over
// HTTP/1.1 and HTTP/2 (:authority). Valid ones still get 200 with Allow, and none reaches the
// origin. Failed before: each bad one got 200 and its connection stayed open (nginx answers
// the OPTIONS * ones 400).
func TestNode_ownOptionsAnswersCheckHostAndTarget(t *testing.T) {
	n, origin := startH2CHostileNode(t)
	const mf0 = "Max-Forwards: 0\r\n"
	for _, tc := range []struct{ target, host, extra, status string }{
		{"*", "www.test", "", "200"},
		{"*", "www.te$t", "", "400"},
		{"*", "u:p@www.test", "", "400"},
		{"*", "www.test:99999", "", "400"},
		{"/dyn/o", "www.test", mf0, "200"},
		{"/dyn/o", "www.te$t", mf0, "400"},
		{"/dyn/o%zz", "www.test", mf0, "400"},
		{"/dyn/../o", "www.test", mf0, "400"},
		{"/dyn/o#f", "www.test", mf0, "400"},
	} {
		raw := "OPTIONS " + tc.target + " HTTP/1.1\r\nHost: " + tc.host + "\r\n" + tc.extra + "\r\n"
		if tc.status == "400" {
			raw += smuggled // never read: nothing after a refused head is a request
		} else {
			raw = strings.Replace(raw, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
		}
		out, closed := converse(t, n.HTTPAddr(), raw, 3*time.Second)
		lines := statusLines(out)
		if len(lines) == 0 || !strings.Contains(lines[0], " "+tc.status+" ") {
			t.Errorf("OPTIONS %s, Host %q %q: %q, want %s", tc.target, tc.host, tc.extra, lines, tc.status)
		}
		if tc.status == "400" && (!closed || len(lines) > 1) {
			t.Errorf("OPTIONS %s, Host %q: the connection went on after the 400 (%q)", tc.target, tc.host, lines)
		}
	}
	r := dialRawH2C(t, n.H2CAddr())
	id := uint32(1)
	for _, tc := range []struct{ path, authority, maxForwards, status string }{
		{"*", "www.test", "", "200"},
		{"*", "www.te$t", "", "400"},
		{"*", "www.test:99999", "", "400"},
		{"/dyn/o", "www.te$t", "0", "400"},
		{"/dyn/o%zz", "www.test", "0", "400"},
		{"/dyn/o", "www.test", "0", "200"},
	} {
		fields := [][2]string{{":method", "OPTIONS"}, {":scheme", "http"}, {":authority", tc.authority}, {":path", tc.path}}
		if tc.maxForwards != "" {
			fields = append(fields, [2]string{"max-forwards", tc.maxForwards})
		}
		r.open(id, true, fields...)
		if status, reset := r.outcome(id); status != tc.status {
			t.Errorf("HTTP/2 OPTIONS %s, :authority %q: status %q (reset %v), want %s", tc.path, tc.authority, status, reset, tc.status)
		}
		id += 2
	}
	originNotAsked(t, origin)
}
