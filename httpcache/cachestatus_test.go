package httpcache

import "testing"

func TestCacheStatus_String(t *testing.T) {
	tests := []struct {
		name string
		in   CacheStatus
		want string
	}{
		{"9211 2.1 hit with ttl", CacheStatus{Cache: "shoal", Hit: true, TTL: 52, HasTTL: true, Detail: "edge-1"}, "shoal; hit; ttl=52; detail=edge-1"},
		{"9211 2.2 forwarded and stored", CacheStatus{Cache: "shoal", Fwd: "miss", FwdStatus: 200, Stored: true, Collapsed: true, Detail: "edge-1"},
			"shoal; fwd=miss; fwd-status=200; stored; collapsed; detail=edge-1"},
		{"9211 2.4 negative ttl when stale", CacheStatus{Cache: "shoal", Hit: true, TTL: -3, HasTTL: true}, "shoal; hit; ttl=-3"},
		{"9211 2.7 key is a string, escaped", CacheStatus{Cache: "shoal", Fwd: "uri-miss", Key: `a"b\c`}, `shoal; fwd=uri-miss; key="a\"b\\c"`},
		{"8941 3.3.4 non-token detail quoted", CacheStatus{Cache: "shoal", Hit: true, Detail: "edge 1"}, `shoal; hit; detail="edge 1"`},
		{"8941 3.3.3 non-ASCII replaced", CacheStatus{Cache: "é", Hit: true}, `"??"; hit`},
		{"8941 3.3.4 invalid fwd dropped", CacheStatus{Cache: "shoal", Fwd: "not a token", FwdStatus: 502}, "shoal; fwd-status=502"},
		{"9211 2 empty name defaults", CacheStatus{Hit: true}, "shoal; hit"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
