package conf

import (
	"errors"
	"strings"
	"testing"
)

// TestParse_diskAdmitFrequencyTheSketchCanReach: the tier's frequency estimate is a count-min
// sketch of counters capped at 15 plus a doorkeeper bit, so no key is ever seen more than 16
// times; an admit_frequency above that (1000, a rate typed as a count) was ok and a full
// tier then admitted nothing, without a word. It is refused; 16 is the largest.
func TestParse_diskAdmitFrequencyTheSketchCanReach(t *testing.T) {
	const head = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\ncache:\n  disk:\n    path: /d\n    size: 1GiB\n"
	for _, f := range []string{"17", "1000"} {
		_, err := Parse([]byte(head+"    admit_frequency: "+f+"\n"), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "cache.disk.admit_frequency" || errs[0].Line != 8 || !strings.Contains(errs[0].Msg, "16") {
			t.Errorf("admit_frequency %s: %v; want one cache.disk.admit_frequency error on line 8 naming 16", f, err)
		}
	}
	for _, f := range []string{"-1", "0", "1", "16"} {
		if _, err := Parse([]byte(head+"    admit_frequency: "+f+"\n"), "good.yaml", ""); err != nil {
			t.Errorf("admit_frequency %s: %v", f, err)
		}
	}
}
