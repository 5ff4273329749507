package origin

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestChunkedBody: RFC 9112 §7.1. Complete bodies end with io.EOF after their trailer
// section, whatever fields it holds, leaving the reader at the next response; every cut and
// every malformed size is an error, never a clean end.
func TestChunkedBody(t *testing.T) {
	const next = "HTTP/1.1 200 OK\r\n"
	cases := []struct {
		name, wire, body string
		err              error // nil: complete
	}{
		{"plain", "5\r\nhello\r\n0\r\n\r\n", "hello", nil},
		{"extension and trailer", "5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", "hello", nil},
		{"forbidden trailer fields", "5\r\nhello\r\n0\r\nContent-Length: 9\r\nSet-Cookie: s=1\r\n\r\n", "hello", nil},
		{"cut at a chunk boundary", "5\r\nhello\r\n", "hello", io.ErrUnexpectedEOF},
		{"cut mid-chunk", "a\r\nhello", "hello", io.ErrUnexpectedEOF},
		{"cut in the trailer", "5\r\nhello\r\n0\r\nX-T: 1\r\n", "hello", io.ErrUnexpectedEOF},
		{"size not hex", "5g\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"size 0x5", "0x5\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"size overflows", "10000000000000005\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"extensions by the grammar", "5 ; a = b ;c;d=\"x\\\"y\"\r\nhello\r\n0;e\r\n\r\n", "hello", nil},
		{"whitespace after the size", "5 \r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"tab after the size", "5\t\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"extension name with a space", "5;a b\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"extension without a name", "5;=b\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"extension value missing", "5;a=\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"extension quoted, unterminated", "5;a=\"b\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"extension with a control", "5;a\x01\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"CR inside the line", "5\r;a\r\nhello\r\n0\r\n\r\n", "", errors.New("any")},
		{"data not followed by CRLF", "5\r\nhelloX\r\n0\r\n\r\n", "hello", errors.New("any")},
		{"last chunk with whitespace", "5\r\nhello\r\n0 \r\n\r\n", "hello", errors.New("any")},
		{"endless trailer", "0\r\n" + strings.Repeat("X-T: "+strings.Repeat("a", 1000)+"\r\n", 100) + "\r\n", "", errTrailerTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wire := tc.wire
			if tc.err == nil {
				wire += next
			}
			br := bufio.NewReader(strings.NewReader(wire))
			got, err := io.ReadAll(newChunkedBody(br))
			if string(got) != tc.body && tc.err == nil {
				t.Errorf("body %q, want %q", got, tc.body)
			}
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("error %v on a complete body", err)
			case tc.err != nil && err == nil:
				t.Fatalf("no error, body %q", got)
			case tc.err == io.ErrUnexpectedEOF || tc.err == errTrailerTooLarge:
				if !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
			}
			if tc.err == nil {
				if rest, _ := io.ReadAll(br); string(rest) != next {
					t.Errorf("left %q on the connection, want the next response", rest)
				}
			}
		})
	}
}
