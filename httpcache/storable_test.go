package httpcache

import (
	"reflect"
	"testing"
	"time"
)

func TestPolicy_Storable(t *testing.T) {
	lm := at(-100 * time.Hour)
	tests := []struct {
		name   string
		policy Policy
		req    Request
		resp   Response
		store  bool
		reason string // checked when not stored
	}{
		{"9111 3 GET 200 with max-age is stored", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=60"), true, ""},
		{"9111 3 POST is not stored", Policy{}, Request{Method: "POST"}, resp(200, "Cache-Control", "max-age=60"), false, "method POST not stored"},
		{"9111 3 HEAD is answered from GET, not stored", Policy{}, Request{Method: "HEAD"}, resp(200, "Cache-Control", "max-age=60"), false, "method HEAD not stored"},
		{"9111 3 1xx interim never stored", Policy{}, getReq(), resp(103, "Cache-Control", "max-age=60"), false, "interim response 103 never stored"},
		{"9111 3.3 206 not stored as complete", Policy{}, getReq(), resp(206, "Cache-Control", "max-age=60"), false, "206 partial content not stored as complete"},
		{"9111 4.3.4 304 updates, is not stored", Policy{}, getReq(), resp(304, "Cache-Control", "max-age=60"), false, "304 updates a stored response, not stored itself"},
		{"9111 5.2.2.5 no-store", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=60, no-store"), false, "no-store"},
		{"9111 5.2.1.5 request no-store", Policy{}, getReq("Cache-Control", "no-store"), resp(200, "Cache-Control", "max-age=60"), false, "request no-store"},
		{"9111 5.2.2.7 private not stored by a shared cache", Policy{}, getReq(), resp(200, "Cache-Control", "private, max-age=60"), false, "private"},
		{"9111 5.2.2.7 qualified private stores the rest", Policy{}, getReq(), resp(200, "Cache-Control", `private="X-User", max-age=60`), true, ""},
		{"9111 3.5 Authorization blocks storing", Policy{}, getReq("Authorization", "Bearer x"), resp(200, "Cache-Control", "max-age=60"), false, "authorization without public, s-maxage or must-revalidate"},
		{"9111 3.5 Authorization with public", Policy{}, getReq("Authorization", "Bearer x"), resp(200, "Cache-Control", "public, max-age=60"), true, ""},
		{"9111 3.5 Authorization with s-maxage", Policy{}, getReq("Authorization", "Bearer x"), resp(200, "Cache-Control", "s-maxage=60"), true, ""},
		{"9111 3.5 Authorization with must-revalidate", Policy{}, getReq("Authorization", "Bearer x"), resp(200, "Cache-Control", "max-age=60, must-revalidate"), true, ""},
		{"9111 3.5 Authorization with public in Cache-Control under a targeted field", Policy{}, getReq("Authorization", "Bearer x"), resp(200, "Cache-Control", "public", "CDN-Cache-Control", "max-age=60"), true, ""},
		{"9111 3 500 without explicit freshness not cacheable", Policy{}, getReq(), resp(500, "Last-Modified", lm), false, "status 500 not cacheable without explicit freshness"},
		{"9111 3 500 with max-age is storable", Policy{}, getReq(), resp(500, "Cache-Control", "max-age=5"), true, ""},
		{"9110 15 599 with max-age is storable", Policy{}, getReq(), resp(599, "Cache-Control", "max-age=5"), true, ""},
		{"9110 15 600 is invalid, never stored", Policy{}, getReq(), resp(600, "Cache-Control", "max-age=60"), false, "status 600 invalid"},
		{"9110 15 999 is invalid, never stored", Policy{}, getReq(), resp(999, "Cache-Control", "public, max-age=60"), false, "status 999 invalid"},
		{"9111 3 302 with Expires is storable", Policy{}, getReq(), resp(302, "Date", at(0), "Expires", at(time.Minute)), true, ""},
		{"9110 15.1 public gives a 302 no heuristic lifetime", Policy{}, getReq(), resp(302, "Cache-Control", "public", "Date", at(0), "Last-Modified", lm), false, "status 302 not cacheable without explicit freshness"},
		{"9110 15.1 public gives a 503 no heuristic lifetime", Policy{}, getReq(), resp(503, "Cache-Control", "public", "Date", at(0), "Last-Modified", lm), false, "status 503 not cacheable without explicit freshness"},
		{"9111 5.2.2.9 public 503 with max-age is storable", Policy{}, getReq(), resp(503, "Cache-Control", "public, max-age=60"), true, ""},
		{"9110 15.1 404 heuristically cacheable", Policy{}, getReq(), resp(404, "Date", at(0), "Last-Modified", lm), true, ""},
		{"9110 15.1 410 heuristically cacheable", Policy{}, getReq(), resp(410, "Date", at(0), "Last-Modified", lm), true, ""},
		{"9110 15.1 501 heuristically cacheable", Policy{}, getReq(), resp(501, "Date", at(0), "Last-Modified", lm), true, ""},
		{"9110 15.1 302 is not heuristically cacheable", Policy{}, getReq(), resp(302, "Date", at(0), "Last-Modified", lm), false, "status 302 not cacheable without explicit freshness"},
		{"9111 5.2.2.3 must-understand with understood status overrides no-store", Policy{}, getReq(), resp(200, "Cache-Control", "must-understand, no-store, max-age=60"), true, ""},
		{"9111 5.2.2.3 must-understand with unknown status", Policy{}, getReq(), resp(299, "Cache-Control", "must-understand, no-store, max-age=60"), false, "must-understand: status 299 not understood"},
		{"9111 4.1 Vary * never matches, so not stored", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=60", "Vary", "Accept, *"), false, "vary *"},
		{"9111 4.2.2 no freshness, no validator: useless", Policy{}, getReq(), resp(200), false, "stale on arrival without validator"},
		{"9111 4.2.3 upstream Age beyond max-age, no validator: useless", Policy{}, getReq(), resp(200, "Date", at(0), "Cache-Control", "max-age=60", "Age", "120"), false, "stale on arrival without validator"},
		{"9111 4.2.3 Date older than Expires - Date, no validator: useless", Policy{}, getReq(), resp(200, "Date", at(-100*time.Second), "Expires", at(-50*time.Second)), false, "stale on arrival without validator"},
		{"9111 4.2.3 upstream Age beyond max-age with a validator is stored", Policy{}, getReq(), resp(200, "Date", at(0), "Cache-Control", "max-age=60", "Age", "120", "ETag", `"a"`), true, ""},
		{"9111 4.2.3 upstream Age within max-age is stored", Policy{}, getReq(), resp(200, "Date", at(0), "Cache-Control", "max-age=60", "Age", "30"), true, ""},
		{"9111 4.3 no freshness but a validator: stored for revalidation", Policy{}, getReq(), resp(200, "ETag", `"a"`), true, ""},
		{"9111 4.2.2 DefaultTTL gives a bare 200 a lifetime", Policy{DefaultTTL: time.Minute}, getReq(), resp(200), true, ""},
		{"9111 4.2.2 DefaultTTL only for 200", Policy{DefaultTTL: time.Minute}, getReq(), resp(404), false, "stale on arrival without validator"},
		{"9111 5.2.2.4 no-cache without validator is useless", Policy{}, getReq(), resp(200, "Cache-Control", "no-cache, max-age=60"), false, "no-cache without validator"},
		{"9111 5.2.2.4 no-cache with validator stored", Policy{}, getReq(), resp(200, "Cache-Control", "no-cache", "ETag", `"v"`), true, ""},
		{"5861 explicit stale-if-error keeps a stale-on-arrival response", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=0, stale-if-error=60"), true, ""},
		{"9213 2.2 CDN-Cache-Control no-store beats Cache-Control", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=10000", "CDN-Cache-Control", "no-store"), false, "no-store"},
		{"9213 2.2 CDN-Cache-Control max-age beats Cache-Control no-store", Policy{}, getReq(), resp(200, "Cache-Control", "no-store", "CDN-Cache-Control", "max-age=10000"), true, ""},
		{"9213 2.2 CDN-Cache-Control private", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=10000", "CDN-Cache-Control", "private"), false, "private"},
		{"9213 2.1 invalid CDN-Cache-Control ignored", Policy{}, getReq(), resp(200, "Cache-Control", "no-store", "CDN-Cache-Control", "max-age=10000, &&&&&"), false, "no-store"},
		{"9213 2.2 targeted field beats CDN-Cache-Control", Policy{}, getReq(), resp(200, "CDN-Cache-Control", "no-store", "Shoal-Cache-Control", "max-age=60"), true, ""},
		{"9213 2.2 custom targeted field", Policy{TargetedField: "Edge-Cache-Control"}, getReq(), resp(200, "Shoal-Cache-Control", "max-age=60", "Edge-Cache-Control", "no-store"), false, "no-store"},
		{"Surrogate-Control no-store beats Cache-Control", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=60", "Surrogate-Control", "no-store"), false, "no-store"},
		{"Surrogate-Control no-store-remote applies to a CDN", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=60", "Surrogate-Control", "no-store-remote"), false, "no-store"},
		{"Surrogate-Control device-targeted directive ignored", Policy{}, getReq(), resp(200, "Cache-Control", "max-age=60", "Surrogate-Control", "no-store;other-device"), true, ""},
		{"9213 2.2 CDN-Cache-Control beats Surrogate-Control", Policy{}, getReq(), resp(200, "CDN-Cache-Control", "max-age=60", "Surrogate-Control", "no-store"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.Storable(tt.req, tt.resp)
			if got.Store != tt.store {
				t.Fatalf("Store = %v (%q), want %v", got.Store, got.Reason, tt.store)
			}
			if !tt.store && got.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestPolicy_Storable_decisionFields(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		resp   Response
		want   StoreDecision
	}{
		{"9111 5.2.2.1 max-age lifetime", Policy{}, resp(200, "Cache-Control", "max-age=60"),
			StoreDecision{Store: true, Lifetime: time.Minute}},
		{"9111 4.2.1 s-maxage beats max-age and implies proxy-revalidate", Policy{}, resp(200, "Cache-Control", "max-age=60, s-maxage=10"),
			StoreDecision{Store: true, Lifetime: 10 * time.Second, MustRevalidate: true}},
		{"9111 5.2.2.8 proxy-revalidate", Policy{}, resp(200, "Cache-Control", "max-age=60, proxy-revalidate"),
			StoreDecision{Store: true, Lifetime: time.Minute, MustRevalidate: true}},
		{"9111 4.2.1 max-age beats Expires", Policy{}, resp(200, "Cache-Control", "max-age=60", "Date", at(0), "Expires", at(time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Minute}},
		{"9111 4.2.1 Expires minus Date", Policy{}, resp(200, "Date", at(0), "Expires", at(time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Hour}},
		{"9111 4.2.1 Expires without Date uses response time", Policy{}, resp(200, "Expires", at(time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Hour}},
		{"9111 5.3 invalid Expires means already expired", Policy{}, resp(200, "Expires", "0", "ETag", `"x"`),
			StoreDecision{Store: true}},
		{"9111 5.3 invalid Expires is explicit: no heuristic", Policy{}, resp(200, "Expires", "soon", "Date", at(0), "Last-Modified", at(-100*time.Hour)),
			StoreDecision{Store: true}},
		{"9111 4.2.1 first Expires line counts", Policy{}, resp(200, "Date", at(0), "Expires", at(time.Hour), "Expires", at(2*time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Hour}},
		{"9110 5.6.7 rfc850 Expires", Policy{}, resp(200, "Date", at(0), "Expires", "Wednesday, 01-May-24 13:00:00 GMT"),
			StoreDecision{Store: true, Lifetime: time.Hour}},
		{"9110 5.6.7 asctime Expires", Policy{}, resp(200, "Date", at(0), "Expires", "Wed May  1 13:00:00 2024"),
			StoreDecision{Store: true, Lifetime: time.Hour}},
		{"9111 4.2.2 heuristic is 10% of Date - Last-Modified", Policy{}, resp(200, "Date", at(0), "Last-Modified", at(-10*time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Hour, Heuristic: true}},
		{"9111 4.2.2 heuristic fraction configurable", Policy{HeuristicFraction: 0.5}, resp(200, "Date", at(0), "Last-Modified", at(-2*time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Hour, Heuristic: true}},
		{"9111 4.2.2 heuristic capped at 24h by default", Policy{}, resp(200, "Date", at(0), "Last-Modified", at(-1000*time.Hour)),
			StoreDecision{Store: true, Lifetime: 24 * time.Hour, Heuristic: true}},
		{"9111 4.2.2 heuristic cap configurable", Policy{HeuristicMax: time.Minute}, resp(200, "Date", at(0), "Last-Modified", at(-1000*time.Hour)),
			StoreDecision{Store: true, Lifetime: time.Minute, Heuristic: true}},
		{"9111 4.2.2 Last-Modified after Date gives no heuristic freshness", Policy{}, resp(200, "Date", at(0), "Last-Modified", at(time.Hour)),
			StoreDecision{Store: true, Heuristic: true}},
		{"9111 4.2.2 DefaultTTL without Last-Modified", Policy{DefaultTTL: time.Minute}, resp(200),
			StoreDecision{Store: true, Lifetime: time.Minute, Heuristic: true}},
		{"5861 3/4 response values", Policy{StaleWhileRevalidate: time.Hour, StaleIfError: time.Hour}, resp(200, "Cache-Control", "max-age=1, stale-while-revalidate=30, stale-if-error=60"),
			StoreDecision{Store: true, Lifetime: time.Second, StaleWhileRevalidate: 30 * time.Second, StaleIfError: time.Minute}},
		{"5861 policy defaults when the response has none", Policy{StaleWhileRevalidate: 10 * time.Second, StaleIfError: time.Hour}, resp(200, "Cache-Control", "max-age=1"),
			StoreDecision{Store: true, Lifetime: time.Second, StaleWhileRevalidate: 10 * time.Second, StaleIfError: time.Hour}},
		{"9111 5.2.2.2 must-revalidate disables stale extensions", Policy{StaleIfError: time.Hour}, resp(200, "Cache-Control", "max-age=1, must-revalidate, stale-if-error=60, stale-while-revalidate=5"),
			StoreDecision{Store: true, Lifetime: time.Second, MustRevalidate: true}},
		{"9111 5.2.2.4/5.2.2.7 field lists kept", Policy{}, resp(200, "Cache-Control", `max-age=5, no-cache="Set-Cookie", private="X-User"`),
			StoreDecision{Store: true, Lifetime: 5 * time.Second, NoCacheFields: []string{"set-cookie"}, PrivateFields: []string{"x-user"}}},
		{"8246 immutable and 9111 5.2.2.6 no-transform", Policy{}, resp(200, "Cache-Control", "max-age=5, immutable, no-transform"),
			StoreDecision{Store: true, Lifetime: 5 * time.Second, Immutable: true, NoTransform: true}},
		{"9213 2.2 CDN-Cache-Control ignores Expires", Policy{}, resp(200, "CDN-Cache-Control", "max-age=3600", "Date", at(0), "Expires", "0"),
			StoreDecision{Store: true, Lifetime: time.Hour}},
		{"9213 2.2 short CDN max-age beats long Cache-Control", Policy{}, resp(200, "Cache-Control", "max-age=3600", "CDN-Cache-Control", "max-age=1"),
			StoreDecision{Store: true, Lifetime: time.Second}},
		{"9213 2.1 wrong-typed max-age ignored, field still governs", Policy{}, resp(200, "Cache-Control", "max-age=3600", "CDN-Cache-Control", `max-age="10000"`, "ETag", `"e"`),
			StoreDecision{Store: true}},
		{"9213 huge CDN max-age clamps", Policy{}, resp(200, "CDN-Cache-Control", "max-age=99999999999"),
			StoreDecision{Store: true, Lifetime: maxDeltaSeconds * time.Second}},
		{"9213 2.1 SF field lists for no-cache", Policy{}, resp(200, "CDN-Cache-Control", `max-age=60, no-cache="Set-Cookie", private=("X-A" x-b)`),
			StoreDecision{Store: true, Lifetime: time.Minute, NoCacheFields: []string{"set-cookie"}, PrivateFields: []string{"x-a", "x-b"}}},
		{"Surrogate-Control max-age beats Cache-Control", Policy{}, resp(200, "Cache-Control", "max-age=5, private", "Surrogate-Control", "max-age=60, content=\"ESI/1.0\""),
			StoreDecision{Store: true, Lifetime: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.Storable(getReq(), tt.resp)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Storable\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStripUnstorable_omitsHopByHopAndPrivateFields(t *testing.T) {
	in := hdr("Connection", "close, X-A", "X-A", "1", "Keep-Alive", "t=5", "Transfer-Encoding", "chunked",
		"Proxy-Authenticate", "Basic", "X-User", "bob", "Set-Cookie", "s=1", "C", "3")
	d := StoreDecision{PrivateFields: []string{"x-user"}, NoCacheFields: []string{"set-cookie"}}
	got := StripUnstorable(in, d)
	want := hdr("Set-Cookie", "s=1", "C", "3") // 9111 3.1: no-cache fields stored, stripped on use
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StripUnstorable = %v, want %v", got, want)
	}
	StripFields(&got, d.NoCacheFields)
	if !reflect.DeepEqual(got, hdr("C", "3")) {
		t.Errorf("StripFields = %v", got)
	}
}

// Nothing to drop: resp itself comes back (no copy per miss); something to drop after the
// first field or as the first: a copy, and resp is left as it was.
func TestStripUnstorable_copiesOnlyWhatItChanges(t *testing.T) {
	clean := hdr("Cache-Control", "max-age=60", "ETag", `"a"`, "C", "3")
	if got := StripUnstorable(clean, StoreDecision{}); len(got) != 3 || &got[0] != &clean[0] {
		t.Errorf("nothing to drop: got %v (a copy?), want the same header", got)
	}
	for _, in := range []Header{
		hdr("Keep-Alive", "t=5", "ETag", `"a"`, "C", "3"),
		hdr("ETag", `"a"`, "Keep-Alive", "t=5", "C", "3"),
		hdr("ETag", `"a"`, "C", "3", "Keep-Alive", "t=5"),
		hdr("ETag", `"a"`, "X-User", "bob", "C", "3", "Connection", "x-user"),
	} {
		before := append(Header(nil), in...)
		got := StripUnstorable(in, StoreDecision{PrivateFields: []string{"X-USER"}})
		if !reflect.DeepEqual(got, hdr("ETag", `"a"`, "C", "3")) {
			t.Errorf("StripUnstorable(%v) = %v", in, got)
		}
		if !reflect.DeepEqual(in, before) {
			t.Errorf("StripUnstorable changed its input: %v, was %v", in, before)
		}
		if &got[0] == &in[0] {
			t.Errorf("StripUnstorable(%v) shares its input after dropping a field", in)
		}
	}
}
