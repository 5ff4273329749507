package edge

import "bytes"

// dropConnectionListed removes from the client's request every field a Connection line names
// (RFC 9110 section 7.6.1: such fields are for the hop they came on, and the node never
// forwards them). outgoing drops them from what the origin receives anyway; they go here,
// before the cache key, the Vary variant, the cookie rules and the Authorization check read
// the request, so that those see exactly the request the origin receives. Left, "Connection:
// X-Lang" with "X-Lang: fr" stored the origin's answer to a request without X-Lang under the
// variant for fr: every later fr client got it (as Varnish does, the fields go on receipt).
// Host and the framing fields stay: the node reads them as the request's own and rebuilds
// them for the origin. The common request, with no Connection line or only "keep-alive" or
// "close", allocates nothing. upgrade reports whether a Connection line lists "upgrade"
// (a protocol upgrade: upgrade.go).
func dropConnectionListed(h *fieldList) (upgrade bool) {
	var names [][]byte
	for k, v := range h.All() {
		if len(k) != len("Connection") || !bytes.EqualFold(k, []byte("Connection")) {
			continue
		}
		for len(v) > 0 {
			var tok []byte
			tok, v = cutListItem(v)
			tok = trimOWS(tok)
			upgrade = upgrade || bytes.EqualFold(tok, []byte("upgrade"))
			if len(tok) > 0 && !keptOnReceipt(tok) {
				names = append(names, append([]byte(nil), tok...))
			}
		}
	}
	for _, name := range names {
		h.DelBytes(name)
	}
	return upgrade
}

// keptOnReceipt: the Connection options that name no end-to-end field of the request
// (close, keep-alive and the other hop-by-hop fields, which outgoing drops itself) and the
// fields the node rebuilds (Host, Content-Length).
func keptOnReceipt(name []byte) bool {
	return isHopByHop(name) || isContentLength(name) || bytes.EqualFold(name, []byte("close")) || bytes.EqualFold(name, []byte("Host"))
}
