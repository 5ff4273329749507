package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Target is one HTTP request blueprint, as read from a vegeta text targets file.
type Target struct {
	Method string
	URL    string
	// Header keeps names exactly as written: the systems under test may care about case.
	Header http.Header
	Body   []byte
}

// ParseError reports a malformed targets file, with the 1-based line it was found on.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("targets: line %d: %s", e.Line, e.Msg) }

// ParseOptions tune ParseTargets. The zero value reads bodies relative to the working directory.
type ParseOptions struct {
	// BaseDir resolves relative "@body" paths; empty means the working directory.
	BaseDir string
	// ReadFile loads "@body" files; nil means os.ReadFile. Tests inject a map lookup here.
	ReadFile func(path string) ([]byte, error)
}

// knownMethods are the words that may open a target. vegeta accepts the first seven; PURGE and
// BAN are added because cache invalidation is something a CDN load test sends.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true,
	"OPTIONS": true, "PURGE": true, "BAN": true,
}

// maxTargetLine bounds one line of a targets file so a corrupt file cannot exhaust memory.
const maxTargetLine = 1 << 20

// ParseTargets reads vegeta's text target format:
//
//	GET http://host/path        request line: METHOD absolute-URL
//	Header-Name: value          zero or more headers (repeatable)
//	@/path/to/body              optional body file, last line of the block
//
// Targets are separated by blank lines or simply by the next request line; lines starting
// with '#' are comments. An empty file is an error, as an attack needs at least one target.
func ParseTargets(r io.Reader, opts ParseOptions) ([]Target, error) {
	readFile := opts.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxTargetLine)

	var (
		targets []Target
		cur     *Target
		hasBody bool
		lineNo  int
	)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			cur = nil
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		if method, rawURL, ok := splitRequestLine(line); ok {
			if err := checkTargetURL(rawURL); err != nil {
				return nil, &ParseError{Line: lineNo, Msg: err.Error()}
			}
			targets = append(targets, Target{Method: method, URL: rawURL, Header: http.Header{}})
			cur, hasBody = &targets[len(targets)-1], false
			continue
		}
		if cur == nil {
			return nil, &ParseError{Line: lineNo, Msg: fmt.Sprintf("expected \"METHOD URL\", got %q", clip(line))}
		}
		if hasBody {
			return nil, &ParseError{Line: lineNo, Msg: "nothing may follow the @body line of a target"}
		}
		if strings.HasPrefix(line, "@") {
			body, err := readBody(line[1:], opts.BaseDir, readFile)
			if err != nil {
				return nil, &ParseError{Line: lineNo, Msg: err.Error()}
			}
			cur.Body, hasBody = body, true
			continue
		}
		name, value, err := splitHeader(line)
		if err != nil {
			return nil, &ParseError{Line: lineNo, Msg: err.Error()}
		}
		cur.Header[name] = append(cur.Header[name], value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("targets: line %d: %w", lineNo+1, err)
	}
	if len(targets) == 0 {
		return nil, errors.New("targets: no targets found")
	}
	return targets, nil
}

// splitRequestLine recognises "METHOD URL". Anything else is a header or body line.
func splitRequestLine(line string) (method, rawURL string, ok bool) {
	method, rest, found := strings.Cut(line, " ")
	if !found || !knownMethods[method] {
		return "", "", false
	}
	return method, strings.TrimSpace(rest), true
}

func checkTargetURL(rawURL string) error {
	u, err := url.ParseRequestURI(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bad URL %q: want an absolute http(s) URL", clip(rawURL))
	}
	return nil
}

func splitHeader(line string) (name, value string, err error) {
	name, value, found := strings.Cut(line, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !found || name == "" || !isToken(name) {
		return "", "", fmt.Errorf("bad header %q: want \"Name: value\"", clip(line))
	}
	return name, value, nil
}

func readBody(path, baseDir string, readFile func(string) ([]byte, error)) ([]byte, error) {
	if path == "" {
		return nil, errors.New("empty @body path")
	}
	if baseDir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	body, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	return body, nil
}

// isToken reports whether s is an RFC 9110 token, the grammar of a header name.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return s != ""
}

// clip keeps error messages readable when a line is huge.
func clip(s string) string {
	const limit = 80
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
