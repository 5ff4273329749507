package vip

import (
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
		{"IPv4 and IPv6 on lo", conf.VIP{Interface: "lo", Addresses: []string{"127.0.0.50/8", "fd00::50/64"}}, ""},
		{"no interface", conf.VIP{Addresses: []string{"192.0.2.100/24"}}, "vip.interface: missing"},
		{"unknown interface", conf.VIP{Interface: "shoal-nope0", Addresses: []string{"192.0.2.100/24"}}, "vip.interface"},
		{"no prefix", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.100"}}, "vip.addresses[0]"},
		{"garbage", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.100/24", "x"}}, "vip.addresses[1]"},
		{"zone", conf.VIP{Interface: "lo", Addresses: []string{"fe80::1%lo/64"}}, "vip.addresses[0]"},
		{"duplicate", conf.VIP{Interface: "lo", Addresses: []string{"192.0.2.100/24", "192.0.2.100/32"}}, "listed twice"},
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
