package conf

import "gopkg.in/yaml.v3"

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
