package edge

import (
	"fmt"
	"strings"
	"testing"
)

// TestResponseHeader_endToEndInTwoAllocations: the fields a stored object keeps are the
// end-to-end ones, in order and spelled as sent, without the hop-by-hop fields of RFC 9110
// section 7.6.1, Content-Length and every name any Connection line lists (more lines than
// are honoured in place, and past the 64 fields remembered in the bit set, included); the
// copy is one string and one slice, whatever Connection says.
func TestResponseHeader_endToEndInTwoAllocations(t *testing.T) {
	build := func(extra int, connLines int) *fieldList {
		var h fieldList
		h.Reset()
		h.Add("Date", "Sat, 21 Nov 2026 10:00:00 GMT")
		h.Add("Connection", "keep-alive")
		h.Add("Keep-Alive", "timeout=5")
		h.Add("Content-Length", "1024")
		h.Add("ETag", `"v1"`)
		for i := range connLines {
			h.Add("connection", fmt.Sprintf("X-Drop-%d , x-other-%d", i, i))
		}
		for i := range extra {
			h.Add(fmt.Sprintf("X-Pad-%d", i), "p")
		}
		for i := range connLines {
			h.Add(fmt.Sprintf("x-drop-%d", i), "gone")
			h.Add(fmt.Sprintf("X-Other-%d", i), "gone")
		}
		h.Add("Cache-Control", "max-age=60")
		h.Add("Transfer-Encoding", "chunked")
		return &h
	}
	for _, tt := range []struct {
		name             string
		extra, connLines int
	}{
		{"nginx's Connection: keep-alive", 0, 0},
		{"a Connection line naming fields", 0, 1},
		{"more Connection lines than are honoured in place", 0, maxConnectionLines + 2},
		{"past 64 fields", 80, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := build(tt.extra, tt.connLines)
			got := responseHeader(h)
			var names []string
			for _, f := range got {
				names = append(names, f.Name+": "+f.Value)
			}
			want := []string{"Date: Sat, 21 Nov 2026 10:00:00 GMT", `ETag: "v1"`}
			for i := range tt.extra {
				want = append(want, fmt.Sprintf("X-Pad-%d: p", i))
			}
			want = append(want, "Cache-Control: max-age=60")
			if g, w := strings.Join(names, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("got\n%s\nwant\n%s", g, w)
			}
			// Past rawFieldsOnStack fields the walk borrows a pooled slice, which the race
			// detector's sync.Pool drops now and then.
			if tt.connLines <= maxConnectionLines && !(raceEnabled && len(h.fields) > rawFieldsOnStack) {
				if n := testing.AllocsPerRun(50, func() { responseHeader(h) }); n != 2 {
					t.Errorf("%v allocations, want 2", n)
				}
			}
		})
	}
}
