package edge

import (
	"testing"
)

// TestSoftPurgeRequested_anySpelling: a lowercase purge-mode field or token was read as a
// hard purge, because the listener keeps field names as sent and Peek matches exactly.
func TestSoftPurgeRequested_anySpelling(t *testing.T) {
	cases := []struct {
		name, value string
		soft        bool
	}{
		{"Purge-Mode", "soft", true},
		{"purge-mode", "soft", true},
		{"PURGE-MODE", "Soft", true},
		{"Purge-Mode", " soft ", true},
		{"Purge-Mode", "hard", false},
		{"X-Other", "soft", false},
	}
	for _, c := range cases {
		var req fieldList
		req.Reset()
		req.Set(c.name, c.value)
		if got := softPurgeRequested(&req); got != c.soft {
			t.Errorf("%s: %q: soft=%v, want %v", c.name, c.value, got, c.soft)
		}
	}
}
