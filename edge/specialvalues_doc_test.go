package edge

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// documentedSpecial matches a comment in examples/shoal.yaml that gives 0, -1 or an empty
// value a meaning of its own.
var documentedSpecial = regexp.MustCompile(`\b0 means|-1 means|-1 admits|empty means|empty:|"" means|\b0 is\b|\b0:|\b0 off\b|\b0 keeps\b|0 or -1 means|empty matches`)

// commentedKey is a commented-out key of the reference file ("  # disk:", "  #   path: ..."):
// its special values are documented like the others'.
var commentedKey = regexp.MustCompile(`^(\s*)# ?(\s*(- )?[A-Za-z0-9_]+:)`)

// documentedSpecialKeys walks the reference configuration and returns the dotted key
// ("cache.disk.segment_size", "routes[].rate_limit.rate") of every line whose comment, with
// its continuation lines, documents a special value.
func documentedSpecialKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type level struct {
		indent int
		key    string
	}
	var (
		stack   []level
		keys    []string
		last    string // the key the current comment belongs to
		matched bool
	)
	flush := func() {
		if last != "" && matched {
			keys = append(keys, last)
		}
		last, matched = "", false
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := commentedKey.ReplaceAllString(sc.Text(), "$1$2")
		code, comment, _ := strings.Cut(line, "#")
		if strings.TrimSpace(code) == "" {
			// A comment line of its own continues the key above it when indented.
			if strings.HasPrefix(line, " ") && documentedSpecial.MatchString(comment) {
				matched = true
			}
			if !strings.HasPrefix(line, " ") {
				flush()
			}
			continue
		}
		flush()
		indent := len(code) - len(strings.TrimLeft(code, " "))
		item := strings.TrimLeft(code, " ")
		list := strings.HasPrefix(item, "- ")
		if list {
			item = strings.TrimPrefix(item, "- ")
			indent += 2
		}
		key, _, ok := strings.Cut(item, ":")
		if !ok || strings.ContainsAny(key, " {") {
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		if list && len(stack) > 0 && !strings.HasSuffix(stack[len(stack)-1].key, "[]") {
			stack[len(stack)-1].key += "[]"
		}
		stack = append(stack, level{indent, strings.TrimSpace(key)})
		var names []string
		for _, l := range stack {
			names = append(names, l.key)
		}
		last = strings.Join(names, ".")
		matched = documentedSpecial.MatchString(comment)
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// The reference file and the walk cannot drift apart: a special value documented in
// examples/shoal.yaml without a row fails here.
func TestReferenceConfig_everySpecialValueHasARow(t *testing.T) {
	documented := documentedSpecialKeys(t, "../examples/shoal.yaml")
	if len(documented) < 20 {
		t.Fatalf("found only %v in examples/shoal.yaml: the walker is broken", documented)
	}
	for _, key := range documented {
		if _, ok := nodeSpecialValues[key]; !ok && !strings.HasPrefix(key, "origins.") {
			t.Errorf("examples/shoal.yaml documents a special value of %s that no row of nodeSpecialValues checks", key)
		}
	}
}

// The walker finds each marker phrase, commented-out keys and continuation lines, so a new
// special value cannot hide from the test above by its wording or its place.
func TestDocumentedSpecialKeys_findsEveryMarker(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	text := `a:
  b: 0          # 0 means x
  c: -1         # -1 means y
  d: ""         # empty means z
  e: ""         # "" means w
  f: 0          # 0 is none
  g: 0          # 0: half
  h: 0          # 1.25 is usual; 0 off
  i: 0          # 0 keeps the other
  n: {}         # empty matches everything
  plain: 3      # nothing special
  # sub:        # commented out
  #   j: -1     # -1 admits everything
  k: []         # a long line
                # continued; empty: none
  l:
    - m: 0      # 0 means n
`
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(documentedSpecialKeys(t, file), " ")
	want := "a.b a.c a.d a.e a.f a.g a.h a.i a.n a.sub.j a.k a.l[].m"
	if got != want {
		t.Errorf("walker found %q, want %q", got, want)
	}
}
