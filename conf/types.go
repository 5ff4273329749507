package conf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Size is a byte count written as an integer or with a unit: 512, 64KiB, 1GiB, 10MB.
type Size int64

// Duration is a time.Duration written in Go syntax, or with days: 300ms, 2s, 1h30m, 7d.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseSize reads a Size from its text form.
func ParseSize(s string) (Size, error) {
	text := strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, factor = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil || text == "" {
		return 0, fmt.Errorf("invalid size %q (want a number with an optional unit: KiB, MiB, GiB, KB, MB, GB)", s)
	}
	if math.IsNaN(n) {
		// NaN passes every bound below (each comparison is false) and converts to -2^63.
		return 0, fmt.Errorf("invalid size %q: not a number", s)
	}
	if n < 0 {
		return 0, fmt.Errorf("invalid size %q: negative", s)
	}
	bytes := n * float64(factor)
	if bytes > 1<<62 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	if bytes != math.Trunc(bytes) {
		// Size(bytes) would cut it: "2.5" was 2 bytes and "0.1KiB" 102, without a word.
		return 0, fmt.Errorf("invalid size %q: not a whole number of bytes", s)
	}
	return Size(bytes), nil
}

// UnmarshalYAML accepts a scalar size.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return badValue(n, "want a size such as 64MiB")
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return badValue(n, err.Error())
	}
	*s = v
	return nil
}

// String formats the size with the largest binary unit that divides it.
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.factor == 0 {
			return fmt.Sprintf("%d%s", int64(s)/u.factor, u.suffix)
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// UnmarshalYAML accepts a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return badValue(n, "want a duration such as 2s")
	}
	v, err := parseDuration(n.Value)
	if errors.Is(err, errDurationRange) {
		return badValue(n, fmt.Sprintf("invalid duration %q: %v", n.Value, err))
	}
	if err != nil {
		return badValue(n, fmt.Sprintf("invalid duration %q (Go syntax: 300ms, 2s, 1h)", n.Value))
	}
	if v < 0 {
		return badValue(n, fmt.Sprintf("invalid duration %q: negative", n.Value))
	}
	*d = Duration(v)
	return nil
}

// String formats the duration in Go syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// badValue reports the bad value at n as a *yaml.TypeError, which decodeErrors turns into an
// Error naming the key: yaml.v3 collects those and decodes on, where any other error ends the
// decode, and one bad size would then hide every problem after it.
func badValue(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: column %d: %s", n.Line, n.Column, msg)}}
}
