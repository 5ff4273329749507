package gslb

import (
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

func TestValidate_BadConfig(t *testing.T) {
	tests := []struct {
		name   string
		change func(*conf.GSLB)
		want   string // substring of the error; empty means valid
	}{
		{"good", func(*conf.GSLB) {}, ""},
		{"off", func(c *conf.GSLB) { *c = conf.GSLB{} }, ""},
		{"answers default", func(c *conf.GSLB) { c.Answers = 0 }, ""},
		{"zone without trailing dot", func(c *conf.GSLB) { c.Zone = "cdn.example.com" }, "gslb.zone"},
		{"zone missing", func(c *conf.GSLB) { c.Zone = "" }, "gslb.zone"},
		{"zone is root", func(c *conf.GSLB) { c.Zone = "." }, "gslb.zone"},
		{"overlapping regions", func(c *conf.GSLB) { c.Regions["us"].CIDRs = append(c.Regions["us"].CIDRs, "10.2.0.0/16") }, "overlaps"},
		{"overlapping IPv6", func(c *conf.GSLB) { c.Regions["ap"].CIDRs = []string{"2001:db8::/32"} }, "overlaps"},
		{"unknown near", func(c *conf.GSLB) { c.Regions["eu"].Near = []string{"mars"} }, `unknown region "mars"`},
		{"answers below 1", func(c *conf.GSLB) { c.Answers = -1 }, "gslb.answers"},
		{"bad CIDR", func(c *conf.GSLB) { c.Regions["eu"].CIDRs = []string{"10.0.0.0/33"} }, "gslb.regions.eu.cidrs[0]"},
		{"CIDR without length", func(c *conf.GSLB) { c.Regions["eu"].CIDRs = []string{"10.0.0.1"} }, "gslb.regions.eu.cidrs[0]"},
		{"negative ttl", func(c *conf.GSLB) { c.TTL = -5 }, "gslb.ttl"},
		{"name outside zone", func(c *conf.GSLB) { c.Names = []string{"www.example.org."} }, "outside zone"},
		{"bad name", func(c *conf.GSLB) { c.Names = []string{"a..b"} }, "gslb.names[0]"},
		{"wildcard name", func(c *conf.GSLB) { c.Names = []string{"*"} }, "gslb.names[0]"},
		{"name with a space and a bang", func(c *conf.GSLB) { c.Names = []string{"bad name!"} }, "gslb.names[0]"},
		{"name with a slash", func(c *conf.GSLB) { c.Names = []string{"a/b"} }, "gslb.names[0]"},
		{"label starting with a hyphen", func(c *conf.GSLB) { c.Names = []string{"-www"} }, "gslb.names[0]"},
		{"label ending with a hyphen", func(c *conf.GSLB) { c.Names = []string{"www-.eu"} }, "gslb.names[0]"},
		{"NS with a quote", func(c *conf.GSLB) { c.NS = []string{`ns"1`} }, "gslb.ns[0]"},
		{"zone with a space", func(c *conf.GSLB) { c.Zone = "cdn example.com." }, "gslb.zone"},
		{"service label with underscore", func(c *conf.GSLB) { c.Names = []string{"_edge.www"} }, ""},
		{"digits and hyphens", func(c *conf.GSLB) { c.Names = []string{"edge-01.eu-west"} }, ""},
		{"duplicate name", func(c *conf.GSLB) { c.Names = []string{"www", "WWW"} }, "listed twice"},
		{"name is an NS host", func(c *conf.GSLB) { c.Names = []string{"ns1"} }, "name server host"},
		{"NS at apex", func(c *conf.GSLB) { c.NS = []string{"@"} }, "gslb.ns[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.change(&cfg)
			err := Validate(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.want)
			}
			if tt.want != "" && cfg.Zone != "" {
				if _, err := New(cfg, Options{}); err == nil {
					t.Errorf("New accepted a config Validate refuses")
				}
			}
		})
	}
}

func TestValidate_SerialFollowsConfigOnly(t *testing.T) {
	a, _ := compile(testConfig())
	b, _ := compile(testConfig())
	if a.serial != b.serial {
		t.Errorf("same config, serials %d and %d", a.serial, b.serial)
	}
	cfg := testConfig()
	cfg.TTL = 31
	c, _ := compile(cfg)
	if c.serial == a.serial {
		t.Errorf("serial %d did not change with the config", c.serial)
	}
}
