package conf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads, decodes, defaults and validates the file at path. Files it names (secret_file,
// token_file, certificates) are resolved relative to the file's directory and read here, so a
// component never touches the file system for its configuration.
func Load(path string) (*Config, error) {
	data, err := ReadFile(path, MaxConfigBytes, "a configuration file")
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(data, path, filepath.Dir(path))
}

// Parse is Load for a file already in memory; relative file names resolve against dir.
func Parse(data []byte, name, dir string) (*Config, error) {
	return parse(data, name, dir)
}

func parse(data []byte, name, dir string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(name, err)
	}
	if len(root.Content) == 0 || isNull(root.Content[0]) {
		// Said as it is: "listen: needs http or https" sent an operator whose deploy wrote
		// an empty file looking for a typo in a key.
		return nil, Errors{{File: name, Msg: "the file is empty (or holds only comments): no configuration"}}
	}
	pos := indexPositions(&root)
	cfg := &Config{Cache: DefaultCache(), Cluster: DefaultCluster()}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	cut := schemaProblems(name, &root)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, withSchemaProblems(decodeErrors(name, pos, err), cut)
	}
	if len(cut) > 0 {
		return nil, cut
	}
	// A second document would be ignored whole, every key of it silently.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		line := next.Line
		if len(next.Content) > 0 {
			line = next.Content[0].Line
		}
		return nil, Errors{{File: name, Line: line, Msg: "a second YAML document (after ---): the configuration is one document"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	v := &validator{file: name, dir: dir, pos: pos}
	v.config(cfg)
	if len(v.errs) > 0 {
		// Sections are checked in an order of their own (purge before admin, though admin
		// may come first in the file); Errors promises file order, as nginx -t reads.
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		return nil, v.errs
	}
	return cfg, nil
}

var (
	lineRe       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type (\S+)`)
	duplicateKey = regexp.MustCompile(`^mapping key "([^"]+)" already defined`)
	typeMismatch = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (\\S+)$")
	badValueAt   = regexp.MustCompile(`^column (\d+): (.*)$`) // badValue's form
)

// yamlKind is the node kind of a value of tag.
func yamlKind(tag string) yaml.Kind {
	switch tag {
	case "!!seq":
		return yaml.SequenceNode
	case "!!map":
		return yaml.MappingNode
	}
	return yaml.ScalarNode
}

// yamlValue says what a YAML value of tag (and text, for scalars) is, for an operator.
func yamlValue(tag, text string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	case "!!str":
		return strconv.Quote(text)
	}
	return text
}

// goExpects says what a value of the Go type named goType is written as in YAML.
func goExpects(goType string) string {
	goType = strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number (within range)"
	}
	return "a mapping" // a section: a struct of this package
}

func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Errors{{File: name, Line: line, Msg: "invalid YAML: " + m[2]}}
	}
	return Errors{{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
}

// withSchemaProblems adds schemaProblems to the decoder's, in file order, so that one
// run names them all.
func withSchemaProblems(err error, cut Errors) error {
	var errs Errors
	if len(cut) == 0 || !errors.As(err, &errs) {
		return err
	}
	all := append(append(Errors{}, errs...), cut...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Line < all[j].Line })
	return all
}

// decodeErrors turns yaml.v3's decoding errors into Errors naming the key.
func decodeErrors(name string, pos *positions, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(name, err)
	}
	var out Errors
	for _, msg := range te.Errors {
		e := &Error{File: name, Msg: msg}
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
			if v := badValueAt.FindStringSubmatch(m[2]); v != nil {
				col, _ := strconv.Atoi(v[1])
				e.Key, e.Msg = pos.pathAt(e.Line, col), v[2]
			} else if f := unknownField.FindStringSubmatch(m[2]); f != nil {
				e.Key = pos.keyIn(e.Line, f[1], f[2])
				e.Msg = "unknown key"
			} else if d := duplicateKey.FindStringSubmatch(m[2]); d != nil {
				e.Key = pos.keyAt(e.Line, d[1])
			} else {
				e.Key = pos.deepestOnLine(e.Line)
				if t := typeMismatch.FindStringSubmatch(m[2]); t != nil {
					e.Key = pos.valueOnLine(e.Line, yamlKind(t[1]), t[2])
					e.Msg = "wrong type: " + yamlValue(t[1], t[2]) + " where " + goExpects(t[3]) + " is expected"
				} else {
					e.Msg = strings.Replace(e.Msg, "cannot unmarshal", "wrong type:", 1)
				}
			}
		}
		out = append(out, e)
	}
	return out
}
