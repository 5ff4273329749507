package edge

import (
	"bytes"
	"testing"
)

// Field values lose only SP and HTAB at their ends (RFC 9110 section 5.5), wherever the
// pipeline reads one: a value wrapped in Unicode spaces (NBSP, EM SPACE) is another value,
// never the token it looks like. Neighbours of the Host and Cookie cases
// (TestNode_fieldValuesKeepUnicodeSpaces).
func TestFieldValues_trimOnlyOWS(t *testing.T) {
	if got := connectionTokens([]byte(" X-A\t, X-B\u00a0,\u2003X-C")); len(got) != 3 ||
		!bytes.Equal(got[0], []byte("X-A")) || !bytes.Equal(got[1], []byte("X-B\u00a0")) || !bytes.Equal(got[2], []byte("\u2003X-C")) {
		t.Errorf("connectionTokens = %q, want X-A and the two others as sent", got)
	}
	for v, want := range map[string]bool{"soft": true, " soft\t": true, "soft\u00a0": false, "\u2003soft": false} {
		var h fieldList
		h.Add("Purge-Mode", v)
		if got := softPurgeRequested(&h); got != want {
			t.Errorf("Purge-Mode %q: soft = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[string]bool{"0": true, " 0\t": true, "0\u00a0": false, "\u00a00": false} {
		var h fieldList
		h.Add("Max-Forwards", v)
		if got := maxForwards(&h); got != want {
			t.Errorf("Max-Forwards %q: final = %v, want %v", v, got, want)
		}
	}
	if got := trimOWSString("\t a \u00a0 "); got != "a \u00a0" {
		t.Errorf("trimOWSString = %q", got)
	}
}
