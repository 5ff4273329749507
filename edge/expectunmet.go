package edge

import "bytes"

// unmetExpectation reports a request whose Expect field names an expectation other than
// 100-continue, the only one HTTP defines. RFC 9110 section 10.1.1 lets a server answer such
// a request 417 (Expectation Failed); the node does, on HTTP/1.1 and HTTP/2 alike, as Go's
// and Apache's servers do: ignoring it (nginx's way) would answer a client that asked for
// something the node cannot do as if it had been done, and forwarding it would hand the
// origin an expectation about a hop it is not on (originreq.go drops every Expect). An
// HTTP/1.0 request's expectations are ignored, as section 10.1.1 asks of its 100-continue.
func unmetExpectation(h *fieldList) bool {
	if bytes.Equal(h.Protocol(), []byte("HTTP/1.0")) {
		return false
	}
	for k, v := range h.All() {
		if !isExpect(k) {
			continue
		}
		for len(v) > 0 {
			if m := cutMember(&v, ','); len(m) > 0 && !bytes.EqualFold(m, []byte("100-continue")) {
				return true
			}
		}
	}
	return false
}

// cutMember cuts the first member of a list separated by sep off *v and returns it without
// the spaces and tabs around it (empty for an empty member).
func cutMember(v *[]byte, sep byte) []byte {
	member := *v
	if i := bytes.IndexByte(member, sep); i >= 0 {
		member, *v = member[:i], member[i+1:]
	} else {
		*v = nil
	}
	return trimOWS(member)
}
