package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCluster_aHeadTheNodeAcceptsReachesTheOwner: a client head within
// limits.max_header_bytes is served through a node that does not own the key as it is by the
// owner, though the forwarded head is the client's rendered again plus the peer fields, and
// rendering grows it ("a:" becomes "a: ", "Cookie: a;b" becomes "Cookie: a; b"). Failed before
// (the pipeline redesign did not change it): the owner's peer port read heads of
// max_header_bytes plus 1 KiB and answered 431 to a head of empty fields the node had taken.
func TestCluster_aHeadTheNodeAcceptsReachesTheOwner(t *testing.T) {
	o := startRawLogOrigin(t)
	// limits.maxhdr at its most: this test is about bytes, and 4 KiB of "a:" lines are about a
	// thousand field lines, which the default (101) refuses on their count.
	nodes := startClusterEdited(t, 3, o.URL, "", func(y string) string { return "limits: {max_header_bytes: 4096, maxhdr: 32767}\n" + y })
	for i, tc := range []struct{ name, first, each string }{
		{"empty fields", "", "a:\r\n"},
		{"short fields", "", "a:b\r\n"},
		{"cookies without values", "Cookie: c", ";c"},
	} {
		path := "/head-" + string(rune('a'+i)) + ".css"
		owner, via := viaNonOwner(t, nodes, path)
		var b strings.Builder
		b.WriteString("GET " + path + " HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n" + tc.first)
		end := "\r\n\r\n"
		if tc.first == "" {
			end = "\r\n"
		}
		for b.Len()+len(tc.each)+len(end) <= 4096 {
			b.WriteString(tc.each)
		}
		raw := b.String() + end
		for _, n := range []*Node{owner, via} {
			out, _ := converse(t, n.HTTPAddr(), raw, 5*time.Second)
			if lines := statusLines(out); len(lines) != 1 || !strings.Contains(lines[0], " 200 ") {
				t.Errorf("%s (%d bytes) through %s (owner %s): %q", tc.name, len(raw), n.name, owner.name, lines)
			}
		}
	}
}

// TestCluster_peerHopCarriesTheClientNotItsClaims: through a node that does not own the key,
// the origin sees the client's own address (127.0.0.2 here, not the forwarding node's) in
// X-Forwarded-For and Forwarded, and none of the peer fields: not the cluster secret, and not
// the ones a client forged, in any case of their names. Passed before the fixes of this
// series too: it pins what the peer hop must keep doing.
func TestCluster_peerHopCarriesTheClientNotItsClaims(t *testing.T) {
	o := startRawLogOrigin(t)
	nodes := startCluster(t, 3, o.URL)
	path := "/claims.css"
	_, via := viaNonOwner(t, nodes, path)
	req, _ := http.NewRequest("GET", "http://"+via.HTTPAddr()+path, nil)
	req.Host = "www.example.com"
	req.Header["shoal-client-ip"] = []string{"6.6.6.6"}
	req.Header["SHOAL-SCHEME"] = []string{"https"}
	req.Header["Shoal-Forwarded"] = []string{"node-9"}
	req.Header["Shoal-Peer-Secret"] = []string{"guess"}
	resp, err := clientFrom("127.0.0.2").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	got := o.requests()
	if resp.StatusCode != 200 || len(got) != 1 {
		t.Fatalf("status %d, the origin received %d requests", resp.StatusCode, len(got))
	}
	if xff, fwd := got[0].values("X-Forwarded-For"), got[0].values("Forwarded"); strings.Join(xff, ",") != "127.0.0.2" ||
		strings.Join(fwd, ",") != "for=127.0.0.2;proto=http" {
		t.Errorf("the origin saw X-Forwarded-For %q, Forwarded %q; want the client's address and scheme", xff, fwd)
	}
	for _, f := range got[0].fields {
		if strings.HasPrefix(strings.ToLower(f), "shoal-") {
			t.Errorf("a peer field reached the origin: %q", f)
		}
	}
}
