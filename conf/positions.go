package conf

import (
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// positions maps key paths of a parsed file to the lines they stand on, so that errors found
// after decoding (validation) can still point into the file.
type positions struct {
	lines  map[string]int      // path -> line of its key (or of the item, in a sequence)
	byNode map[[2]int][]string // line, column of a value -> paths written there
	values map[string]valueAt  // path -> what its value is, to tell apart keys on one line
	walked int                 // nodes visited, aliases counted each time they are followed
}

// valueAt is a value's kind and, for a scalar, its text.
type valueAt struct {
	kind yaml.Kind
	text string
}

// maxWalk bounds the nodes indexed. An alias is followed into its anchor's tree, so ten
// nested lists of ten aliases (a "billion laughs" file) made ten billion visits and `shoal
// check` (or a SIGHUP, which then blocked every later signal) never returned. Past the
// bound aliases are not followed; the decoder then refuses such a file as excessive
// aliasing, and an ordinary file is nowhere near it.
const maxWalk = 100_000

func indexPositions(root *yaml.Node) *positions {
	p := &positions{lines: map[string]int{}, byNode: map[[2]int][]string{}, values: map[string]valueAt{}}
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		p.walk(root.Content[0], "", root.Content[0].Line)
	}
	return p
}

func (p *positions) walk(n *yaml.Node, path string, line int) {
	p.walked++
	if path != "" {
		p.lines[path] = line
		p.values[path] = valueAt{kind: n.Kind, text: n.Value}
	}
	at := [2]int{n.Line, n.Column}
	p.byNode[at] = append(p.byNode[at], path)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			child := key.Value
			if path != "" {
				child = path + "." + key.Value
			}
			p.walk(n.Content[i+1], child, key.Line)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p.walk(item, path+"["+strconv.Itoa(i)+"]", item.Line)
		}
	case yaml.AliasNode:
		if n.Alias != nil && p.walked < maxWalk {
			p.walk(n.Alias, path, line)
		}
	}
}

// line returns the line of path, or of its nearest ancestor present in the file.
func (p *positions) line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		path = parent(path)
	}
	return 0
}

// pathAt returns the deepest path whose value starts at line and column.
func (p *positions) pathAt(line, column int) string {
	paths := p.byNode[[2]int{line, column}]
	if len(paths) == 0 {
		return ""
	}
	return paths[len(paths)-1]
}

// keyAt returns the path of a key named name on line, for decoder errors that give only those.
func (p *positions) keyAt(line int, name string) string {
	best := ""
	for path, l := range p.lines {
		if l == line && (path == name || hasSuffix(path, "."+name)) && (best == "" || path < best) {
			best = path
		}
	}
	return best
}

// keyIn is keyAt for a key the decoder found in a value of the Go type named goType (such as
// conf.RoutePolicy). A mapping anchored under one key and aliased under another stands at one
// line under both paths: `cache: &c {...}` then `policy: *c` named cache.fill_timeout, valid,
// for the fill_timeout that policy does not take. The path whose parent decodes into goType
// is the one meant.
func (p *positions) keyIn(line int, name, goType string) string {
	best := ""
	for path, l := range p.lines {
		if l != line || path != name && !hasSuffix(path, "."+name) {
			continue
		}
		if t, ok := typeAt(parent(path)); ok && t.String() == strings.TrimLeft(goType, "*") && (best == "" || path < best) {
			best = path
		}
	}
	if best == "" {
		return p.keyAt(line, name)
	}
	return best
}

// typeAt returns the Go type a key path decodes into, from Config down.
func typeAt(path string) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for path != "" {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(path, "[") {
			end := strings.IndexByte(path, ']')
			if end < 0 || t.Kind() != reflect.Slice {
				return nil, false
			}
			t, path = t.Elem(), strings.TrimPrefix(path[end+1:], ".")
			continue
		}
		seg := path
		if i := strings.IndexAny(path, ".["); i >= 0 {
			seg = path[:i]
		}
		path = strings.TrimPrefix(path[len(seg):], ".")
		switch t.Kind() {
		case reflect.Struct:
			ft, ok := fieldByKey(t, seg)
			if !ok {
				return nil, false
			}
			t = ft
		case reflect.Map:
			t = t.Elem()
		default:
			return nil, false
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, true
}

func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '.':
			return path[:i]
		case '[':
			return path[:i]
		}
	}
	return ""
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// valueOnLine returns the deepest path whose key stands on line and whose value is of kind
// (and, for a scalar, reads text), the first in order among equals; or deepestOnLine's
// answer when none is. It tells apart the keys of a flow mapping, which share a line.
func (p *positions) valueOnLine(line int, kind yaml.Kind, text string) string {
	best := ""
	for path, l := range p.lines {
		v := p.values[path]
		if l != line || v.kind != kind || (kind == yaml.ScalarNode && v.text != text) {
			continue
		}
		if len(path) > len(best) || len(path) == len(best) && path < best {
			best = path
		}
	}
	if best == "" {
		return p.deepestOnLine(line)
	}
	return best
}

// deepestOnLine returns the longest path whose key stands on line.
func (p *positions) deepestOnLine(line int) string {
	best := ""
	for path, l := range p.lines {
		if l == line && len(path) > len(best) {
			best = path
		}
	}
	return best
}
