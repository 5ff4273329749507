package edge

import (
	"encoding/json"
	"sort"
	"strconv"
)

func sortStrings(s []string) { sort.Strings(s) }

func purgeSummary(purged int, acked, missing []string) string {
	b, _ := json.Marshal(struct {
		Purged  int      `json:"purged"`
		Acked   []string `json:"acked"`
		Missing []string `json:"missing"`
	}{purged, acked, missing})
	return string(b) + "\n"
}

func itoa(i int) string { return strconv.Itoa(i) }
