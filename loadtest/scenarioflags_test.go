package loadtest

import (
	"strings"
	"testing"
)

// TestCommand_scenarioFlagValues: -prefix without its leading slash made every scenario URL
// unparsable ("http://127.0.0.1:8080obj0": a run of status-0 errors, exit 0), -max-body below
// -1 was taken, and "-rate 5/-1s" was blamed on a period "1-1s" the user never wrote.
func TestCommand_scenarioFlagValues(t *testing.T) {
	base := []string{"attack", "-scenario", "hit", "-base", "http://127.0.0.1:1", "-duration", "1ms"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-prefix", "obj/"}, "-prefix"},
		{[]string{"-max-body", "-2"}, "-max-body"},
		{[]string{"-rate", "5/-1s"}, `"-1s"`},
	} {
		_, _, err := command(t, "", append(base, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want an error containing %s", tc.args, err, tc.want)
		}
	}
}
