package policy

import (
	"fmt"
	"strings"
)

// Vars are the values a template may name. The edge fills the fields the route's templates
// use (Template.Uses) and nothing else.
type Vars struct {
	ClientIP  string // ${client_ip}: the client address without port
	Node      string // ${node}: node.name
	RequestID string // ${request_id}: the request's id, as in the access log
	Host      string // ${host}: the canonical host, with ":port" unless default
	Path      string // ${path}: the canonical path, without the query
	Prefix    string // cut from Path for ${path_after_prefix}; set by Rules
	groups    []string
}

// Variable names a template may use, as written between "${" and "}".
var variables = map[string]varID{
	"client_ip":         varClientIP,
	"node":              varNode,
	"request_id":        varRequestID,
	"host":              varHost,
	"path":              varPath,
	"path_after_prefix": varPathAfterPrefix,
}

type varID uint8

const (
	varNone varID = iota
	varClientIP
	varNode
	varRequestID
	varHost
	varPath
	varPathAfterPrefix
	varGroup // $1..$9 of a redirect regex
)

// Template is a compiled field value or redirect target: literal text and variables.
type Template struct {
	parts []part
	text  string // the source, for /stats
}

type part struct {
	lit   string
	v     varID
	group int
}

// ParseTemplate compiles s. "${name}" is a variable (an unknown name is an error, with the
// names known), "$1".."$9" a regex group when groups is true, and "$$" a dollar sign.
func ParseTemplate(s string, groups bool) (Template, error) {
	t := Template{text: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			lit.WriteByte(c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '$':
			lit.WriteByte('$')
			i++
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return Template{}, fmt.Errorf("unclosed ${ in %q", s)
			}
			name := s[i+2 : i+end]
			id, ok := variables[name]
			if !ok {
				return Template{}, fmt.Errorf("unknown variable ${%s} (known: %s)", name, VariableNames())
			}
			flush()
			t.parts = append(t.parts, part{v: id})
			i += end
		case groups && i+1 < len(s) && s[i+1] >= '1' && s[i+1] <= '9':
			flush()
			t.parts = append(t.parts, part{v: varGroup, group: int(s[i+1] - '0')})
			i++
		default:
			return Template{}, fmt.Errorf("lone $ in %q (write $$ for a dollar sign, ${name} for a variable)", s)
		}
	}
	flush()
	return t, nil
}

// VariableNames lists the variables, for error messages and documentation.
func VariableNames() string {
	return "${client_ip} ${node} ${request_id} ${host} ${path} ${path_after_prefix}"
}

// String returns the template as written.
func (t Template) String() string { return t.text }

// Constant reports whether the template has no variables, and its text then.
func (t Template) Constant() (string, bool) {
	switch {
	case len(t.parts) == 0:
		return "", true
	case len(t.parts) == 1 && t.parts[0].v == varNone:
		return t.parts[0].lit, true
	}
	return "", false
}

// Uses reports whether the template names the variable (by its name in the YAML).
func (t Template) Uses(name string) bool {
	id := variables[name]
	for _, p := range t.parts {
		if p.v == id && id != varNone {
			return true
		}
	}
	return false
}

// Append expands the template onto dst; it allocates only when dst must grow.
func (t Template) Append(dst []byte, v *Vars) []byte {
	for _, p := range t.parts {
		switch p.v {
		case varNone:
			dst = append(dst, p.lit...)
		case varClientIP:
			dst = append(dst, v.ClientIP...)
		case varNode:
			dst = append(dst, v.Node...)
		case varRequestID:
			dst = append(dst, v.RequestID...)
		case varHost:
			dst = append(dst, v.Host...)
		case varPath:
			dst = append(dst, v.Path...)
		case varPathAfterPrefix:
			dst = append(dst, strings.TrimPrefix(v.Path, v.Prefix)...)
		case varGroup:
			if p.group < len(v.groups) {
				dst = append(dst, v.groups[p.group]...)
			}
		}
	}
	return dst
}
