package edge

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestStats_diskPinnedBytes: space of reclaimed disk segments that readers still hold is
// shown on /stats (only while there is some) and in /stats.json as disk.pinned, since it is
// counted against cache.disk.size and an operator would otherwise see a full tier holding
// less than its bytes say.
func TestStats_diskPinnedBytes(t *testing.T) {
	for _, pinned := range []int64{0, 3 << 20} {
		snap := statsSnapshot{Node: "edge-1", Cache: cacheStats{Disk: &diskStats{State: "ready", Size: 64 << 20, Bytes: 10 << 20, Pinned: pinned}}}
		var page bytes.Buffer
		if err := statsTemplate.Execute(&page, newStatsView(snap)); err != nil {
			t.Fatal(err)
		}
		shown := strings.Contains(page.String(), `id="disk-pinned">3.0 MiB<`)
		if shown != (pinned > 0) {
			t.Errorf("pinned %d: shown on /stats = %v", pinned, shown)
		}
		js, _ := json.Marshal(snap)
		var back struct {
			Cache struct {
				Disk struct {
					Pinned *int64 `json:"pinned"`
				} `json:"disk"`
			} `json:"cache"`
		}
		if err := json.Unmarshal(js, &back); err != nil || back.Cache.Disk.Pinned == nil || *back.Cache.Disk.Pinned != pinned {
			t.Errorf("pinned %d: /stats.json %s", pinned, js)
		}
	}
}
