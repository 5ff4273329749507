package edge

import (
	"bytes"
	"strings"
	"testing"
)

// TestValidToken_everyByteAsRFC9110: validToken's table accepts exactly tchar (RFC 9110
// section 5.6.2), byte by byte, and refuses the empty token.
func TestValidToken_everyByteAsRFC9110(t *testing.T) {
	tchar := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
	}
	for i := 0; i < 256; i++ {
		c := byte(i)
		if got := validToken([]byte{'G', c, 'T'}); got != tchar(c) {
			t.Errorf("byte %#02x: validToken %v, tchar %v", c, got, tchar(c))
		}
	}
	if validToken(nil) {
		t.Error("the empty token is valid")
	}
}

// TestTrimOWS_asBytesTrim: trimOWS takes spaces and tabs off both ends and nothing else,
// and answers as bytes.Trim did for every shape (nil when nothing is left).
func TestTrimOWS_asBytesTrim(t *testing.T) {
	for _, v := range []string{"", " ", "\t \t", "a", " a", "a ", "\ta\t", " a b ", "\u00a0a\u00a0", "\r a \n", "  \x00 "} {
		got, want := trimOWS([]byte(v)), bytes.Trim([]byte(v), " \t")
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("trimOWS(%q) = %q (nil %v), bytes.Trim gives %q (nil %v)", v, got, got == nil, want, want == nil)
		}
		if gs, ws := trimOWSString(v), strings.Trim(v, " \t"); gs != ws {
			t.Errorf("trimOWSString(%q) = %q, want %q", v, gs, ws)
		}
	}
}
