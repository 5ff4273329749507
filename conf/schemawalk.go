package conf

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// schemaProblems finds what yaml.v3 decodes without an error but not as written, walking
// the YAML beside the Go type Config decodes into (aliases followed, bounded as positions'
// walk is) and naming each key with its line:
//
//   - A number with a fraction where the schema takes a whole number: yaml.v3 truncates it,
//     so `max_conns: 0.5` became 0 (the default, 65536), `weight: 2.5` 2 and `rise: 1.9` 1,
//     and `shoal check` said ok. nginx -t and haproxy -c refuse "1.5" for a number.
//   - An empty list item (a lone `-`, or `~`) or an empty value in a map of values
//     (`set: {X-A: ~}`): yaml.v3 drops it, so the items after it moved up one index and
//     every problem found in them was named under the item before, a line too early.
//
// Types that decode themselves (Size, Duration) are theirs to check.
func schemaProblems(name string, root *yaml.Node) Errors {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	f := &schemaWalk{file: name}
	f.walk(root.Content[0], reflect.TypeFor[Config](), "")
	return f.errs
}

type schemaWalk struct {
	file   string
	errs   Errors
	walked int
}

var nodeUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

func (f *schemaWalk) walk(n *yaml.Node, t reflect.Type, path string) {
	if f.walked++; f.walked > maxWalk {
		return // the decoder refuses such a file as excessive aliasing
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias != nil {
			f.walk(n.Alias, t, path)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(nodeUnmarshaler) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			if key.ShortTag() == "!!merge" {
				f.merged(n.Content[i+1], t, path)
			} else if ft, ok := fieldByKey(t, key.Value); ok {
				f.walk(n.Content[i+1], ft, childPath(path, key.Value))
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			child := childPath(path, key.Value)
			f.number(key, t.Key(), child)
			if t.Elem().Kind() != reflect.Pointer && isNull(n.Content[i+1]) {
				f.fail(n.Content[i+1], child, "no value: write one or remove the key")
				continue
			}
			f.walk(n.Content[i+1], t.Elem(), child)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			if isNull(item) {
				f.fail(item, path+"["+strconv.Itoa(i)+"]", "an empty list item (a lone - or ~): write the item or remove the line")
				continue
			}
			f.walk(item, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	default:
		f.number(n, t, path)
	}
}

// merged walks the mappings a merge key (<<: *base, or a list of them) brings into a
// mapping of type t: their values decode into it as if written there.
func (f *schemaWalk) merged(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			f.walk(item, t, path)
		}
		return
	}
	f.walk(n, t, path)
}

// number refuses n when t is an integer type and n a float with a fraction (or not finite).
func (f *schemaWalk) number(n *yaml.Node, t reflect.Type, path string) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" {
		return
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err == nil && v == math.Trunc(v) {
		return // 1e3 is 1000: whole, and yaml.v3 decodes it exactly
	}
	f.fail(n, path, fmt.Sprintf("%s is not a whole number (a fraction would be cut off)", n.Value))
}

func (f *schemaWalk) fail(n *yaml.Node, path, msg string) {
	f.errs = append(f.errs, &Error{File: f.file, Line: n.Line, Key: path, Msg: msg})
}

// isNull reports whether n is YAML's null: nothing, ~ or null (an alias to one too).
func isNull(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// fieldByKey returns the type of t's field for the YAML key, looking into inline structs.
func fieldByKey(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if ft, ok := fieldByKey(sf.Type, key); ok {
				return ft, true
			}
			continue
		}
		if tag == "" {
			tag = strings.ToLower(sf.Name) // yaml.v3's default key
		}
		if tag == key && tag != "-" && sf.IsExported() {
			return sf.Type, true
		}
	}
	return nil, false
}

func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
