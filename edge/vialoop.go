package edge

import (
	"bytes"
	"strings"
)

// viaLoop reports whether a Via line of h names this node (self, its pseudonym in the Via
// member the node adds, "1.1 <node.name>") as a recipient the request already passed
// through: the request has come back to the node that forwarded it, through an origin pool
// that names the node itself, another CDN in front of the origin, or a second tier pointed
// back at the first. RFC 9110 section 7.6.3 gives Via this use ("avoiding request loops").
// Forwarded again, each turn of such a loop holds a connection and adds a Via, Forwarded and
// X-Forwarded-For member until the head outgrows limits.max_header_bytes: hundreds of
// requests and connections for one client request. Traffic Server and Squid refuse such a
// request the same way. A member is "[protocol-name /] protocol-version RWS received-by [RWS
// comment]"; received-by is compared ignoring case, and commas inside a comment do not end a
// member.
func viaLoop(h *fieldList, self string) bool {
	for k, v := range h.All() {
		if len(k) == len("Via") && bytes.EqualFold(k, []byte("Via")) && viaNames(v, self) {
			return true
		}
	}
	return false
}

// viaNames reports whether a member of the Via value v has received-by self.
func viaNames(v []byte, self string) bool {
	depth, start := 0, 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch v[i] {
			case '(':
				depth++
				continue
			case ')':
				if depth > 0 {
					depth--
				}
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if receivedBy(v[start:i], self) {
			return true
		}
		start = i + 1
	}
	return false
}

// receivedBy reports whether the Via member m (protocol, then received-by) names self.
func receivedBy(m []byte, self string) bool {
	f := bytes.Fields(m)
	return len(f) >= 2 && strings.EqualFold(string(f[1]), self)
}
