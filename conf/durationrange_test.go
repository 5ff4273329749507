package conf

import (
	"errors"
	"strings"
	"testing"
)

// Days were multiplied into nanoseconds unchecked: 213504d wrapped past 2^63 to about 17 days
// and was accepted as that, 106752d read as "negative", and 9999999999999h was called bad Go
// syntax. A duration past time.Duration's range (about 292 years) is now refused as too large.
func TestParse_durationsPastTheRangeAreTooLarge(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, v := range []string{"213504d", "106752d", "2147483647d", "106751d1000h", "9999999999999h", "106751d9999999999999h"} {
		_, err := Parse([]byte(rest+"cache: {heuristic_max: "+v+"}\n"), "big.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "cache.heuristic_max" || errs[0].Line != 4 || !strings.Contains(errs[0].Msg, "too large") {
			t.Errorf("heuristic_max: %s: %v; want one cache.heuristic_max error on line 4 saying too large", v, err)
		}
	}
	if cfg, err := Parse([]byte(rest+"cache: {heuristic_max: 106751d}\n"), "ok.yaml", ""); err != nil || cfg.Cache.HeuristicMax.D().Hours() != 106751*24 {
		t.Errorf("heuristic_max: 106751d (within range): %v", err)
	}
}
