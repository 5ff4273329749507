package statefultest

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// model is the reference: what the origin sent (its log) and which purges every node
// acknowledged, and so which bodies an answer may carry.
type model struct {
	origin *origin

	mu     sync.Mutex
	purges []ackedPurge
}

// ackedPurge is a hard purge every member acknowledged: a request sent after acked must not
// get a body of a matched path older than min[path].
type ackedPurge struct {
	acked time.Time
	min   map[string]int
	what  string
}

func (m *model) acknowledged(p ackedPurge) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purges = append(m.purges, p)
}

// answer is what a GET got: the request as sent and the decoded body.
type answer struct {
	get      op
	sent     time.Time
	status   int
	encoding string // Content-Encoding
	body     []byte // decoded
	cache    string // Cache-Status, for the report
	vary     string // the Vary fields, joined
	node     string
}

// violation is a broken promise.
type violation struct{ msg string }

func (v *violation) Error() string { return v.msg }

func broken(a answer, format string, args ...any) error {
	return &violation{fmt.Sprintf("%s: %s (status %d, Content-Encoding %q, Cache-Status %q, node %s)",
		a.get, fmt.Sprintf(format, args...), a.status, a.encoding, a.cache, a.node)}
}

// check returns the first promise a answers breaks.
func (m *model) check(a answer) error {
	if a.encoding != "" && !accepts(a.get.ae, a.encoding) {
		return broken(a, "encoded %q, the client accepted %q", a.encoding, a.get.ae)
	}
	// Downstream caches must be told what the answer depends on (RFC 9110 section 12.5.5).
	if a.encoding != "" && !accepts(a.vary, "Accept-Encoding") {
		return broken(a, "encoded without Vary: Accept-Encoding (Vary %q)", a.vary)
	}
	if classOf(a.get.path).vary && !accepts(a.vary, "X-V") {
		return broken(a, "the origin's Vary: X-V is missing (Vary %q)", a.vary)
	}
	b, err := parseBody(a.body)
	if err != nil {
		return broken(a, "a response that was never complete: %v", err)
	}
	if b.path != a.get.path {
		return broken(a, "the body of %s (serial %d)", b.path, b.serial)
	}
	wantXV := "-"
	if a.get.xv != "" {
		wantXV = "=" + a.get.xv
	}
	if classOf(a.get.path).vary && b.xv != wantXV {
		return broken(a, "a body from another variant: made for X-V%s (serial %d), asked with X-V%s", b.xv, b.serial, wantXV)
	}
	sent, ok := m.origin.request(b.serial)
	if !ok || sent.path != b.path || sent.version != b.version || classOf(b.path).vary && sent.xvPresent != (b.xv != "-") {
		return broken(a, "an answer to a request the origin was not asked: serial %d (origin log: %+v, %v)", b.serial, sent, ok)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.purges {
		if min, ok := p.min[b.path]; ok && a.sent.After(p.acked) && b.version < min {
			return broken(a, "content served after its purge was acknowledged: version %d (serial %d, fetched %s before), purge %s acknowledged %s before the request wanted version >= %d",
				b.version, b.serial, a.sent.Sub(sent.at).Round(time.Millisecond), p.what, a.sent.Sub(p.acked).Round(time.Millisecond), min)
		}
	}
	return nil
}

// accepts reports whether an Accept-Encoding value allows coding (no q=0 in our requests).
func accepts(acceptEncoding, coding string) bool {
	for _, c := range strings.Split(acceptEncoding, ",") {
		if strings.EqualFold(strings.TrimSpace(c), coding) {
			return true
		}
	}
	return false
}
