package conf

import (
	"fmt"
	"strings"
)

// Error is one problem in a configuration file, located by key path and line.
type Error struct {
	File string // "" when parsed from memory
	Line int    // 0 when the key is absent from the file (a missing required key)
	Key  string // dotted path, e.g. origins.static.servers[1].url
	Msg  string
	Err  error // the cause Msg tells, when there is one (errors.Is and As reach it)
}

// At is err, found while acting on the value of key (a listener that would not bind, a
// certificate that would not load), as an *Error naming key: Locate then adds the file and
// the key's line, as this package's own errors have.
func At(key string, err error) error {
	return &Error{Key: key, Msg: err.Error(), Err: err}
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d: ", e.Line)
	} else if e.File != "" {
		b.WriteString(" ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
