package gslb

import (
	"strings"
	"testing"
)

// A gslb.ttl above 2^31-1 was taken: uint32 wrapped 4294967297 to a TTL of 1 s, and resolvers
// read 2^31..2^32-1 as 0 (RFC 2181 section 8).
func TestValidate_ttlAboveRFC2181Bound(t *testing.T) {
	for _, ttl := range []int{1 << 31, 1<<32 + 1, 99999999999} {
		cfg := testConfig()
		cfg.TTL = ttl
		if err := Validate(cfg); err == nil || !strings.Contains(err.Error(), "gslb.ttl") {
			t.Errorf("ttl %d: Validate %v, want a gslb.ttl error", ttl, err)
		}
		if _, err := New(cfg, Options{}); err == nil {
			t.Errorf("ttl %d: New accepted it", ttl)
		}
	}
	cfg := testConfig()
	cfg.TTL = 1<<31 - 1
	z, err := compile(cfg)
	if err != nil || z.ttl != 1<<31-1 {
		t.Errorf("ttl 2^31-1: %v, zone ttl %v", err, z)
	}
}
