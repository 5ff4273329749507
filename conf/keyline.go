package conf

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"
)

// KeyLine returns the line of key, a dotted path such as gslb.names[1], in the YAML document
// data, or the line of its nearest ancestor written there; 0 when none is or data does not
// parse. It lets problems that components find in a loaded Config (`shoal check` asks them)
// name their line as conf's own errors do.
func KeyLine(data []byte, key string) int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return 0
	}
	return indexPositions(&root).line(key)
}

// Locate returns err with an *Error in it that names a key but no file (a component's
// refusal, such as a reload changing a key read only at start) given the file path and the
// key's line in it, as this package's own errors have. Other errors, and nil, are returned
// as they are.
func Locate(err error, path string) error {
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "" || ce.Key == "" {
		return err
	}
	data, rerr := ReadFile(path, MaxConfigBytes, "a configuration file")
	if rerr != nil {
		return err
	}
	located := *ce
	located.File, located.Line = path, KeyLine(data, ce.Key)
	// The wrappers' messages were formatted with ce's: replace its text in them.
	return errors.New(strings.Replace(err.Error(), ce.Error(), located.Error(), 1))
}
