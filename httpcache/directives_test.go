package httpcache

import (
	"reflect"
	"testing"
	"time"
)

func TestParseCacheControl_rules(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  Directives
	}{
		{"9111 5.2.2.1 max-age", []string{"max-age=60"}, Directives{HasMaxAge: true, MaxAge: time.Minute}},
		{"9111 5.2 directive names are case-insensitive", []string{"MaX-AgE=60, PUBLIC"}, Directives{HasMaxAge: true, MaxAge: time.Minute, Public: true}},
		{"9111 5.2 quoted argument accepted", []string{`max-age="3600"`}, Directives{HasMaxAge: true, MaxAge: time.Hour}},
		{"9111 1.2.2 leading zeros", []string{"max-age=003600"}, Directives{HasMaxAge: true, MaxAge: time.Hour}},
		{"9111 1.2.2 overflow clamps to 2^31", []string{"max-age=99999999999999999999"}, Directives{HasMaxAge: true, MaxAge: maxDeltaSeconds * time.Second}},
		{"9111 4.2.1 invalid max-age means stale", []string{"max-age=3600a"}, Directives{HasMaxAge: true}},
		{"9111 4.2.1 decimal max-age is invalid", []string{"max-age=3600.5"}, Directives{HasMaxAge: true}},
		{"9111 4.2.1 single-quoted max-age is invalid", []string{"max-age='3600'"}, Directives{HasMaxAge: true}},
		{"9111 4.2.1 negative max-age is invalid", []string{"max-age=-1"}, Directives{HasMaxAge: true}},
		{"9111 5.2 space before = makes the element unreadable", []string{"max-age =3600"}, Directives{}},
		{"9111 5.2 space after = is an invalid argument", []string{"max-age= 3600"}, Directives{HasMaxAge: true}},
		{"9111 4.2.1 first max-age wins (same line)", []string{"max-age=1800, max-age=1"}, Directives{HasMaxAge: true, MaxAge: 1800 * time.Second}},
		{"9111 4.2.1 first max-age wins (two lines)", []string{"max-age=1", "max-age=1800"}, Directives{HasMaxAge: true, MaxAge: time.Second}},
		{"9111 5.2 quoted comma does not split", []string{`extension="max-age=3600", max-age=1`}, Directives{HasMaxAge: true, MaxAge: time.Second}},
		{"9111 5.2 quoted after real", []string{`max-age=1, extension="a, max-age=3600"`}, Directives{HasMaxAge: true, MaxAge: time.Second}},
		{"9111 5.2.3 unknown directives ignored", []string{"foo, bar=baz, no-store"}, Directives{NoStore: true}},
		{"9111 5.2.2.10 s-maxage", []string{"s-maxage=10"}, Directives{HasSMaxAge: true, SMaxAge: 10 * time.Second}},
		{"9111 5.2.1.2 max-stale without value means any", []string{"max-stale"}, Directives{MaxStaleAny: true}},
		{"9111 5.2.1.2 max-stale with value", []string{"max-stale=30"}, Directives{HasMaxStale: true, MaxStale: 30 * time.Second}},
		{"9111 5.2.1.2 invalid max-stale ignored", []string{"max-stale=x"}, Directives{}},
		{"9111 5.2.1.3 min-fresh", []string{"min-fresh=5"}, Directives{HasMinFresh: true, MinFresh: 5 * time.Second}},
		{"9111 5.2.1.3 invalid min-fresh ignored", []string{"min-fresh"}, Directives{}},
		{"9111 5.2.2.4 unqualified no-cache", []string{"no-cache"}, Directives{NoCache: true}},
		{"9111 5.2.2.4 qualified no-cache lists fields", []string{`no-cache="Set-Cookie, X-A"`}, Directives{NoCacheFields: []string{"set-cookie", "x-a"}}},
		{"9111 5.2.2.4 token form of field name", []string{`no-cache=Set-Cookie`}, Directives{NoCacheFields: []string{"set-cookie"}}},
		{"9111 5.2.2.4 empty field list is whole-response no-cache", []string{`no-cache=""`}, Directives{NoCache: true}},
		{"9111 5.2.2.7 qualified private", []string{`private="X-User"`}, Directives{PrivateFields: []string{"x-user"}}},
		{"9111 4.2.1 conflicting private wins as the restrictive one", []string{`private="a", private`}, Directives{Private: true, PrivateFields: []string{"a"}}},
		{"9111 5.2 flags", []string{"no-store, no-transform, only-if-cached, must-revalidate, proxy-revalidate, must-understand, public, immutable"},
			Directives{NoStore: true, NoTransform: true, OnlyIfCached: true, MustRevalidate: true, ProxyRevalidate: true, MustUnderstand: true, Public: true, Immutable: true}},
		{"5861 3 stale-while-revalidate", []string{"stale-while-revalidate=30"}, Directives{HasStaleWhileRevalidate: true, StaleWhileRevalidate: 30 * time.Second}},
		{"5861 4 stale-if-error", []string{"stale-if-error=60"}, Directives{HasStaleIfError: true, StaleIfError: time.Minute}},
		{"5861 invalid stale-while-revalidate ignored", []string{"stale-while-revalidate"}, Directives{}},
		{"9110 5.6.1 empty list elements tolerated", []string{" , ,no-store,, "}, Directives{NoStore: true}},
		{"9111 5.2 unterminated quote swallows the rest", []string{`a="x, no-store`}, Directives{}},
		{"9110 5.6.4 quoted-pair in argument", []string{`no-cache="a\"b, c"`}, Directives{NoCacheFields: []string{"c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseCacheControl(tt.lines); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCacheControl(%q)\n got %+v\nwant %+v", tt.lines, got, tt.want)
			}
		})
	}
}
