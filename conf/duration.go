package conf

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// errDurationRange is a duration past time.Duration's range (about 292 years). Days were
// once multiplied into nanoseconds unchecked, and 213504d wrapped round to about 17 days.
var errDurationRange = errors.New("too large (at most 106751d)")

// maxDays is the most whole days a time.Duration holds.
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// goDuration is time.ParseDuration's syntax: text it refuses although it matches this has
// a value past the range, which deserves another message than bad syntax.
var goDuration = regexp.MustCompile(`^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

// parseDuration is time.ParseDuration that also takes days ("1d", "7d", "1d12h"), as
// operators write TTLs.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	days, rest, found := strings.Cut(s, "d")
	if !found {
		return parseGoDuration(s)
	}
	n, err := strconv.ParseInt(days, 10, 64)
	if errors.Is(err, strconv.ErrRange) || n > maxDays || n < -maxDays {
		return 0, errDurationRange
	}
	if err != nil {
		return time.ParseDuration(s) // its error names the text
	}
	whole := time.Duration(n) * 24 * time.Hour
	if n < 0 {
		whole = -whole
	}
	var r time.Duration
	if rest != "" {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return 0, errors.New("invalid duration " + strconv.Quote(s))
		}
		if r, err = parseGoDuration(rest); errors.Is(err, errDurationRange) {
			return 0, err
		} else if err != nil {
			return 0, errors.New("invalid duration " + strconv.Quote(s))
		}
		if r > math.MaxInt64-whole {
			return 0, errDurationRange
		}
	}
	if n < 0 {
		return -(whole + r), nil
	}
	return whole + r, nil
}

func parseGoDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil && goDuration.MatchString(s) {
		return 0, errDurationRange
	}
	return d, err
}
