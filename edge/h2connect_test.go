package edge

import (
	"testing"
)

// TestH2Serve_connectIs405AsOnHTTP1: an HTTP/2 CONNECT (RFC 9113 section 8.5: :method and
// :authority only) is a well-formed request for a method the node does not serve: 405 with
// Allow, as HTTP/1.1's CONNECT gets, and no origin is asked. Failed before: 400 "malformed
// HTTP/2 request: :path is not origin-form", a well-formed request called malformed.
func TestH2Serve_connectIs405AsOnHTTP1(t *testing.T) {
	n, origin := startH2CHostileNode(t)
	r := dialRawH2C(t, n.H2CAddr())
	r.open(1, true, [2]string{":method", "CONNECT"}, [2]string{":authority", "www.test:443"})
	if status, reset := r.outcome(1); status != "405" || reset != 0 {
		t.Errorf("HTTP/2 CONNECT: status %q, reset %v; want 405", status, reset)
	}
	if line := rawRequest(t, n.HTTPAddr(), "CONNECT www.test:443 HTTP/1.1\r\nHost: www.test:443\r\n\r\n"); line != "HTTP/1.1 405 Method Not Allowed" {
		t.Errorf("HTTP/1.1 CONNECT: %q, want 405", line)
	}
	originNotAsked(t, origin)
}

// TestH2Serve_openConnectIs405AtOnce: a CONNECT whose stream stays open (a tunnel's client
// waits for the answer before sending DATA), and a TRACE announcing content it does not
// send, get their 405 without waiting for content. Failed before: no answer until
// limits.read_timeout (30 s here), then RST_STREAM CANCEL.
func TestH2Serve_openConnectIs405AtOnce(t *testing.T) {
	n, origin := startH2CHostileNode(t)
	r := dialRawH2C(t, n.H2CAddr())
	r.open(1, false, [2]string{":method", "CONNECT"}, [2]string{":authority", "www.test:443"})
	if status, reset := r.outcome(1); status != "405" {
		t.Errorf("open HTTP/2 CONNECT: status %q, reset %v; want 405", status, reset)
	}
	r.open(3, false, [2]string{":method", "TRACE"}, [2]string{":scheme", "https"}, [2]string{":authority", "www.test"},
		[2]string{":path", "/"}, [2]string{"content-length", "5"})
	if status, reset := r.outcome(3); status != "405" {
		t.Errorf("TRACE with content to come: status %q, reset %v; want 405", status, reset)
	}
	originNotAsked(t, origin)
}

// TestH2Serve_lowercaseMethodWithContentToComeIs400AtOnce: a method with a lowercase letter
// is refused from the head alone (handler.go), so an HTTP/2 request announcing content it
// does not send gets its 400 at once, as CONNECT and TRACE get their 405. Failed before: no answer until limits.read_timeout, then RST_STREAM CANCEL.
func TestH2Serve_lowercaseMethodWithContentToComeIs400AtOnce(t *testing.T) {
	n, origin := startH2CHostileNode(t)
	r := dialRawH2C(t, n.H2CAddr())
	r.open(3, false, [2]string{":method", "post"}, [2]string{":scheme", "https"}, [2]string{":authority", "www.test"},
		[2]string{":path", "/"}, [2]string{"content-length", "5"})
	if status, reset := r.outcome(3); status != "400" {
		t.Errorf("post with content to come: status %q, reset %v; want 400", status, reset)
	}
	originNotAsked(t, origin)
}

// startH2CHostileNode runs a node of hostileConfig with HTTP/1.1 and h2c listeners, before a
// raw-log origin.
func startH2CHostileNode(t *testing.T) (*Node, *rawLogOrigin) {
	t.Helper()
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
	return startNode(t, hostileConfig(origin.URL, listen), Options{}), origin
}

// originNotAsked fails t if any request reached origin: refusals are the node's own.
func originNotAsked(t *testing.T, origin *rawLogOrigin) {
	t.Helper()
	if got := origin.requests(); len(got) != 0 {
		t.Errorf("the origin was asked %d times", len(got))
	}
}
