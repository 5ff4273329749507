package vip

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

func TestValidate_namesTheBadKey(t *testing.T) {
	tests := []struct {
		name    string
		cfg     conf.VIP
		wantErr string // "" means valid
	}{
		{"no VIPs", conf.VIP{}, ""},
		{"IPv4 and IPv6 on lo", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.50/24", "fd00::50/64"}}, ""},
		{"a /32 and a /31", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.0/32", "198.51.100.0/31", "198.51.100.3/31"}}, ""},
		{"no interface", conf.VIP{Addresses: []string{"192.0.2.100/24"}}, "vip.interface: missing"},
		{"unknown interface", conf.VIP{Interface: "shoal-nope0", Addresses: []string{"192.0.2.100/24"}}, "vip.interface"},
		{"no prefix", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.100"}}, "vip.addresses[0]"},
		{"garbage", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.100/24", "x"}}, "vip.addresses[1]"},
		{"zone", conf.VIP{Interface: "lo", Addresses: []string{"fe80::1%lo/64"}}, "vip.addresses[0]"},
		{"duplicate", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.100/24", "192.0.2.100/32"}}, "listed twice"},
	}
	// Addresses no client can be sent to, and the host's own loopback: New removes every VIP
	// from the interface at start, so 127.0.0.1/8 on lo would take loopback off the host.
	// Passed before, each of them.
	for i, a := range []string{"127.0.0.1/8", "::1/128", "0.0.0.0/0", "::/0", "224.0.0.18/24", "ff02::12/64",
		"169.254.1.1/16", "fe80::50/64", "192.0.2.0/24", "192.0.2.255/24", "10.1.2.3/8", "10.255.255.255/8"} {
		want := "vip.addresses[0]"
		if a == "10.1.2.3/8" {
			want = "" // an address inside a /8 is fine
		}
		tests = append(tests, struct {
			name    string
			cfg     conf.VIP
			wantErr string
		}{fmt.Sprintf("unusable %d %s", i, a), conf.VIP{Interface: "lo", Addresses: []string{a}}, want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
