package origin

import (
	"bufio"
	"strings"
	"testing"
	"testing/iotest"
)

// headFlags says spaced for a head whose field name holds a space or a tab, whatever its
// place in the name, and not for whitespace before the colon (removed, RFC 9112 section
// 5.1), whitespace in a value, an obs-fold continuation line, or a body that looks alike.
func TestHeadFlags_spacedName(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"space inside", "HTTP/1.1 200 OK\r\nX-Bad Name: 1\r\nContent-Length: 0\r\n\r\n", true},
		{"tab inside", "HTTP/1.1 200 OK\r\nX-Bad\tName: 1\r\n\r\n", true},
		{"space inside, bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\nA B: 1\n\n", true},
		{"space inside and before the colon", "HTTP/1.1 200 OK\r\nA B : 1\r\n\r\n", true},
		{"space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", false},
		{"tab before the colon", "HTTP/1.1 200 OK\r\nX-A\t: 1\r\n\r\n", false},
		{"spaces in the value", "HTTP/1.1 200 OK\r\nX-A: a b : c\r\n\r\n", false},
		{"obs-fold line", "HTTP/1.1 200 OK\r\nX-A: a\r\n b c: d\r\n\r\n", false},
		{"in the body, not the head", "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nA B: 1\r\n", false},
	} {
		br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tc.head)), 4096)
		br.Peek(1)
		if _, got, _ := headFlags(br); got != tc.want {
			t.Errorf("%s: spaced = %v, want %v", tc.name, got, tc.want)
		}
	}
}
