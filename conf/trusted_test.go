package conf

import (
	"errors"
	"strings"
	"testing"
)

func TestTrustedProxies_errorNamesKeyAndLine(t *testing.T) {
	_, err := Parse([]byte("listen: {http: \":80\"}\ntrusted_proxies:\n  - 10.0.0.0/8\n  - 10.0.0.300/8\n"), "bad.yaml", "")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("want one conf error, got %v", err)
	}
	if e := errs[0]; e.Key != "trusted_proxies[1]" || e.Line != 4 || !strings.Contains(e.Msg, "not a CIDR") {
		t.Errorf("got key=%q line=%d msg=%q", e.Key, e.Line, e.Msg)
	}
}

func TestCacheKey_sortParamsParses(t *testing.T) {
	cfg, err := Parse([]byte("listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://h\"}]}}\ntrusted_proxies: [192.0.2.0/24]\nroutes:\n  - {match: {path_prefix: /}, origin: a, cache: true, cache_key: {sort_params: true}}\n"), "ok.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Routes[0].CacheKey.SortParams || len(cfg.TrustedProxies) != 1 {
		t.Errorf("got %+v, trusted %v", cfg.Routes[0].CacheKey, cfg.TrustedProxies)
	}
	_, err = Parse([]byte("listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://h\"}]}}\nroutes:\n  - origin: a\n    cache_key: {sort_param: true}\n"), "bad.yaml", "")
	if err == nil || !strings.Contains(err.Error(), "routes[0].cache_key.sort_param") {
		t.Errorf("a misspelt cache_key option: %v", err)
	}
}
