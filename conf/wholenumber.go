package conf

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fractions finds every number with a fraction written where the schema takes a whole
// number. yaml.v3 decodes a float into an int field by truncating it, without an error:
// `max_conns: 0.5` became 0 (the default, 65536), `weight: 2.5` became 2 and `rise: 1.9`
// became 1, so a typo changed behaviour and `shoal check` said ok. nginx -t and haproxy -c
// refuse "1.5" where a number is expected; so does this. It walks the YAML beside the Go
// type Config decodes into (aliases followed, bounded as positions' walk is) and names each
// such key with its line. Types that decode themselves (Size, Duration) are theirs to check.
func fractions(name string, root *yaml.Node) Errors {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	f := &fractionWalk{file: name}
	f.walk(root.Content[0], reflect.TypeFor[Config](), "")
	return f.errs
}

type fractionWalk struct {
	file   string
	errs   Errors
	walked int
}

var nodeUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

func (f *fractionWalk) walk(n *yaml.Node, t reflect.Type, path string) {
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
			if ft, ok := fieldByKey(t, key.Value); ok {
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
			f.walk(n.Content[i+1], t.Elem(), child)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			f.walk(item, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	default:
		f.number(n, t, path)
	}
}

// number refuses n when t is an integer type and n a float with a fraction (or not finite).
func (f *fractionWalk) number(n *yaml.Node, t reflect.Type, path string) {
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
	f.errs = append(f.errs, &Error{File: f.file, Line: n.Line, Key: path,
		Msg: fmt.Sprintf("%s is not a whole number (a fraction would be cut off)", n.Value)})
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
