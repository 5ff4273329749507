package loadtest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		body, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("open %s: %w", path, fs.ErrNotExist)
		}
		return []byte(body), nil
	}
}

func TestParseTargets_Formats(t *testing.T) {
	files := map[string]string{"/bodies/a.json": `{"a":1}`, "rel/b.txt": "bee", "/base/rel/c.txt": "sea"}
	tests := []struct {
		name    string
		in      string
		baseDir string
		want    []Target
	}{
		{
			name: "one request line",
			in:   "GET http://127.0.0.1:8080/a\n",
			want: []Target{{Method: "GET", URL: "http://127.0.0.1:8080/a", Header: http.Header{}}},
		},
		{
			name: "headers keep case and repeat",
			in:   "GET http://h/a\nX-Trace: 1\nx-trace: 2\nAccept: text/html, */*\nHost: www.example.com\n",
			want: []Target{{Method: "GET", URL: "http://h/a", Header: http.Header{
				"X-Trace": {"1"}, "x-trace": {"2"}, "Accept": {"text/html, */*"}, "Host": {"www.example.com"},
			}}},
		},
		{
			name: "body file after headers",
			in:   "POST http://h/p\nContent-Type: application/json\n@/bodies/a.json\n",
			want: []Target{{Method: "POST", URL: "http://h/p", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"a":1}`)}},
		},
		{
			name: "relative body without base dir",
			in:   "PUT http://h/p\n@rel/b.txt\n",
			want: []Target{{Method: "PUT", URL: "http://h/p", Header: http.Header{}, Body: []byte("bee")}},
		},
		{
			name:    "relative body resolved against base dir",
			in:      "PUT http://h/p\n@rel/c.txt\n",
			baseDir: "/base",
			want:    []Target{{Method: "PUT", URL: "http://h/p", Header: http.Header{}, Body: []byte("sea")}},
		},
		{
			name: "blank lines, comments and back-to-back request lines",
			in:   "# warm-up\n\nGET http://h/1\n# comment inside\nA: b\n\n\n  HEAD https://h/2  \nPURGE http://h/3\n",
			want: []Target{
				{Method: "GET", URL: "http://h/1", Header: http.Header{"A": {"b"}}},
				{Method: "HEAD", URL: "https://h/2", Header: http.Header{}},
				{Method: "PURGE", URL: "http://h/3", Header: http.Header{}},
			},
		},
		{
			name: "CRLF line endings",
			in:   "GET http://h/1\r\nA: b\r\n\r\nGET http://h/2\r\n",
			want: []Target{
				{Method: "GET", URL: "http://h/1", Header: http.Header{"A": {"b"}}},
				{Method: "GET", URL: "http://h/2", Header: http.Header{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTargets(strings.NewReader(tt.in), ParseOptions{BaseDir: tt.baseDir, ReadFile: fakeFiles(files)})
			if err != nil {
				t.Fatalf("ParseTargets: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseTargets_ErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string
	}{
		{"unknown method", "FETCH http://h/a\n", 1, "expected \"METHOD URL\""},
		{"relative URL", "\nGET /a\n", 2, "bad URL"},
		{"non-http scheme", "GET ftp://h/a\n", 1, "bad URL"},
		{"header without colon", "GET http://h/a\nX-A 1\n", 2, "bad header"},
		{"header name with space", "GET http://h/a\nX A: 1\n", 2, "bad header"},
		{"header before any request", "# c\nX-A: 1\n", 2, "expected \"METHOD URL\""},
		{"missing body file", "POST http://h/a\n\n\nPOST http://h/b\n@/nope\n", 5, "body"},
		{"empty body path", "POST http://h/a\n@\n", 2, "empty @body"},
		{"line after body", "POST http://h/a\n@/x\nX-A: 1\n", 3, "nothing may follow"},
		{"lowercase method", "get http://h/a\n", 1, "expected \"METHOD URL\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTargets(strings.NewReader(tt.in), ParseOptions{ReadFile: fakeFiles(map[string]string{"/x": "x"})})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Line != tt.wantLine || !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Fatalf("got line %d %q, want line %d containing %q", pe.Line, pe.Msg, tt.wantLine, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d", tt.wantLine)) {
				t.Fatalf("error text %q does not name line %d", err, tt.wantLine)
			}
		})
	}
}

func TestParseTargets_EmptyIsError(t *testing.T) {
	for _, in := range []string{"", "\n\n", "# only a comment\n"} {
		if _, err := ParseTargets(strings.NewReader(in), ParseOptions{}); err == nil {
			t.Errorf("ParseTargets(%q) succeeded, want error", in)
		}
	}
}

// formatTargets writes targets back in the text format; bodies are written as "@<body>" because
// the fuzz test's ReadFile returns the path as the body.
func formatTargets(ts []Target) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "%s %s\n", t.Method, t.URL)
		names := make([]string, 0, len(t.Header))
		for name := range t.Header {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, v := range t.Header[name] {
				fmt.Fprintf(&b, "%s: %s\n", name, v)
			}
		}
		if t.Body != nil {
			fmt.Fprintf(&b, "@%s\n", t.Body)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzParseTargets(f *testing.F) {
	f.Add("GET http://h/a\nX-A: 1\n\nPOST https://h:8080/b?q=1\nContent-Type: text/plain\n@/body\n")
	f.Add("# c\nHEAD http://[::1]:80/\n\nDELETE http://h/x\nA: b: c\n")
	f.Add("GET http://h/a\n\x00: x\n")
	f.Add("OPTIONS http://h\n@\n")
	readFile := func(path string) ([]byte, error) { return []byte(path), nil }
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := ParseTargets(strings.NewReader(in), ParseOptions{ReadFile: readFile})
		if err != nil {
			return
		}
		for _, tg := range ts {
			if !knownMethods[tg.Method] {
				t.Fatalf("accepted method %q", tg.Method)
			}
			if checkTargetURL(tg.URL) != nil {
				t.Fatalf("accepted URL %q", tg.URL)
			}
		}
		again, err := ParseTargets(strings.NewReader(formatTargets(ts)), ParseOptions{ReadFile: readFile})
		if err != nil {
			t.Fatalf("re-parse of formatted targets failed: %v\n%s", err, formatTargets(ts))
		}
		if !reflect.DeepEqual(ts, again) {
			t.Fatalf("round trip changed targets:\n%+v\n%+v", ts, again)
		}
	})
}
