package edge

import (
	"bytes"
	"strconv"
)

// maxForwards applies RFC 9110 section 7.6.2 to an OPTIONS request (TRACE is refused before
// it): final is true when Max-Forwards is 0, and the node must then answer as the final
// recipient instead of forwarding; a larger value goes to the origin decremented by one. A
// value that is not 1*DIGIT is left as sent, like an absent one.
func maxForwards(h *fieldList) (final bool) {
	const name = "Max-Forwards"
	var value string
	found := false
	for k, v := range h.All() {
		if len(k) == len(name) && bytes.EqualFold(k, []byte(name)) {
			value, found = string(trimOWS(v)), true
			break
		}
	}
	if !found || value == "" || len(value) > 9 || len(bytes.Trim([]byte(value), "0123456789")) > 0 {
		return false
	}
	n, _ := strconv.Atoi(value)
	if n == 0 {
		return true
	}
	h.Del(name)
	h.Set(name, strconv.Itoa(n-1))
	return false
}
