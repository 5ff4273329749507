package conf

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The reference file's header promises that "where the line says nothing of it, 0 or "" also
// means the default". This walks every plain key of the node-wide sections (section.key with a
// number, duration, size or string value and no special value of its own, which
// edge.TestNode_specialValuesOfTheReferenceConfig checks) and loads it written as 0 or "": the
// configuration must load, and equal the one without the key.

var (
	ownSpecial  = regexp.MustCompile(`\b0 means|-1 means|-1 admits|empty means|empty:|"" means|\b0 is\b|\b0:|\b0 off\b|\b0 keeps\b|0 or -1 means|empty matches`)
	numberValue = regexp.MustCompile(`^-?[0-9][0-9.]*(ms|s|m|h|KiB|MiB|GiB)?$`)
)

const zeroBase = `listen: {http: "127.0.0.1:8080"}
origins: {web: {servers: [{url: "http://127.0.0.1:8001"}]}}
routes: [{match: {path_prefix: /}, origin: web}]
`

// plainKeys returns "section.key" and the value written for every such key of the sections.
func plainKeys(t *testing.T, path string, sections map[string]bool) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		code, comment, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(code) == "" {
			continue
		}
		if !strings.HasPrefix(code, " ") {
			section, _, _ = strings.Cut(code, ":")
			continue
		}
		if !sections[section] || !strings.HasPrefix(code, "  ") || strings.HasPrefix(code, "   ") {
			continue // only the section's own keys
		}
		key, value, ok := strings.Cut(strings.TrimSpace(code), ":")
		value = strings.TrimSpace(value)
		if !ok || value == "" || strings.ContainsAny(value[:1], "[{") || value == "true" || value == "false" {
			continue // a mapping, a list or a switch
		}
		if ownSpecial.MatchString(comment) {
			continue
		}
		out = append(out, [2]string{section + "." + key, value})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReferenceConfig_zeroOrEmptyMeansTheDefault(t *testing.T) {
	sections := map[string]bool{"node": true, "listen": true, "limits": true, "cache": true, "cluster": true,
		"gslb": true, "purge": true, "compression": true, "log": true}
	keys := plainKeys(t, "../examples/shoal.yaml", sections)
	if len(keys) < 20 {
		t.Fatalf("found only %v: the walker is broken", keys)
	}
	base, err := Parse([]byte(zeroBase), "base.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if moved, err := Parse([]byte(zeroBase+"limits: {max_conns: 5}\n"), "moved.yaml", ""); err != nil || reflect.DeepEqual(moved, base) {
		t.Fatalf("a key written with a value of its own compares equal to the default (err %v): the comparison is broken", err)
	}
	for _, kv := range keys {
		section, key, _ := strings.Cut(kv[0], ".")
		zero := `""`
		if numberValue.MatchString(kv[1]) {
			zero = "0"
		}
		text := zeroBase
		if section == "listen" {
			text = strings.Replace(text, `listen: {http: "127.0.0.1:8080"}`, fmt.Sprintf(`listen: {http: "127.0.0.1:8080", %s: %s}`, key, zero), 1)
		} else {
			text += fmt.Sprintf("%s: {%s: %s}\n", section, key, zero)
		}
		cfg, err := Parse([]byte(text), "zero.yaml", "")
		if err != nil {
			t.Errorf("%s: %s (documented: the default %s): refused: %v", kv[0], zero, kv[1], err)
			continue
		}
		if !reflect.DeepEqual(cfg, base) {
			t.Errorf("%s: %s (documented: the default %s) loads differently from the key left out", kv[0], zero, kv[1])
		}
	}
}
