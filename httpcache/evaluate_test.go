package httpcache

import (
	"testing"
	"time"
)

func TestPolicy_Evaluate(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name    string
		policy  Policy
		reqHdr  Header
		resp    Response
		elapsed time.Duration // since t0
		state   State
		sie     bool
		onlyIf  bool
	}{
		{"9111 4.2 fresh response served", Policy{}, nil, resp(200, "Cache-Control", "max-age=60"), 30 * s, Fresh, true, false},
		{"9111 4.2 stale response validated", Policy{}, nil, resp(200, "Cache-Control", "max-age=60"), 61 * s, MustValidate, false, false},
		{"9111 4.2 exactly at lifetime is stale", Policy{}, nil, resp(200, "Cache-Control", "max-age=60"), 60 * s, MustValidate, false, false},
		{"9111 4.2.3 upstream Age beyond max-age is stale on arrival", Policy{}, nil, resp(200, "Date", at(0), "Cache-Control", "max-age=3600", "Age", "7200"), 0, MustValidate, false, false},
		{"9111 5.2.2.1 max-age=0 always validates", Policy{}, nil, resp(200, "Cache-Control", "max-age=0", "ETag", `"a"`), 0, MustValidate, false, false},
		{"9111 5.2.2.4 no-cache validates while fresh", Policy{}, nil, resp(200, "Cache-Control", "max-age=60, no-cache", "ETag", `"a"`), 0, MustValidate, false, false},
		{"9111 5.2.2.4 qualified no-cache serves without validation", Policy{}, nil, resp(200, "Cache-Control", `max-age=60, no-cache="Set-Cookie"`), 0, Fresh, true, false},
		{"9111 5.2.1.4 request no-cache validates", Policy{}, hdr("Cache-Control", "no-cache"), resp(200, "Cache-Control", "max-age=60"), 0, MustValidate, true, false},
		{"9111 5.4 request Pragma no-cache without Cache-Control", Policy{}, hdr("Pragma", "no-cache"), resp(200, "Cache-Control", "max-age=60"), 0, MustValidate, true, false},
		{"9111 5.4 Pragma ignored when Cache-Control present", Policy{}, hdr("Pragma", "no-cache", "Cache-Control", "max-stale=1"), resp(200, "Cache-Control", "max-age=60"), 0, Fresh, true, false},
		{"9111 5.2.1.1 request max-age=0 validates", Policy{}, hdr("Cache-Control", "max-age=0"), resp(200, "Cache-Control", "max-age=60"), s, MustValidate, true, false},
		{"9111 5.2.1.1 request max-age above age serves", Policy{}, hdr("Cache-Control", "max-age=10"), resp(200, "Cache-Control", "max-age=60"), 10 * s, Fresh, true, false},
		{"9111 5.2.1.1 request max-age below age validates", Policy{}, hdr("Cache-Control", "max-age=10"), resp(200, "Cache-Control", "max-age=60"), 11 * s, MustValidate, true, false},
		{"9111 5.2.1.3 min-fresh satisfied", Policy{}, hdr("Cache-Control", "min-fresh=10"), resp(200, "Cache-Control", "max-age=60"), 50 * s, Fresh, true, false},
		{"9111 5.2.1.3 min-fresh not satisfied", Policy{}, hdr("Cache-Control", "min-fresh=10"), resp(200, "Cache-Control", "max-age=60"), 51 * s, MustValidate, true, false},
		{"9111 5.2.1.2 max-stale with value accepts a little staleness", Policy{}, hdr("Cache-Control", "max-stale=10"), resp(200, "Cache-Control", "max-age=60"), 70 * s, Fresh, true, false},
		{"9111 5.2.1.2 max-stale exceeded", Policy{}, hdr("Cache-Control", "max-stale=10"), resp(200, "Cache-Control", "max-age=60"), 71 * s, MustValidate, false, false},
		{"9111 5.2.1.2 max-stale any", Policy{}, hdr("Cache-Control", "max-stale"), resp(200, "Cache-Control", "max-age=60"), time.Hour, Fresh, true, false},
		{"9111 5.2.2.2 must-revalidate beats max-stale", Policy{}, hdr("Cache-Control", "max-stale"), resp(200, "Cache-Control", "max-age=60, must-revalidate"), time.Hour, MustValidate, false, false},
		{"9111 5.2.2.8 proxy-revalidate beats max-stale in a shared cache", Policy{}, hdr("Cache-Control", "max-stale"), resp(200, "Cache-Control", "max-age=60, proxy-revalidate"), time.Hour, MustValidate, false, false},
		{"9111 5.2.2.10 s-maxage beats max-stale", Policy{}, hdr("Cache-Control", "max-stale"), resp(200, "Cache-Control", "s-maxage=60"), time.Hour, MustValidate, false, false},
		{"5861 3 within stale-while-revalidate", Policy{}, nil, resp(200, "Cache-Control", "max-age=60, stale-while-revalidate=30"), 90 * s, StaleWhileRevalidate, false, false},
		{"5861 3 beyond stale-while-revalidate", Policy{}, nil, resp(200, "Cache-Control", "max-age=60, stale-while-revalidate=30"), 91 * s, MustValidate, false, false},
		{"5861 3 policy default window", Policy{StaleWhileRevalidate: 30 * s}, nil, resp(200, "Cache-Control", "max-age=60"), 80 * s, StaleWhileRevalidate, false, false},
		{"5861 3 request min-fresh refuses stale-while-revalidate", Policy{}, hdr("Cache-Control", "min-fresh=1"), resp(200, "Cache-Control", "max-age=60, stale-while-revalidate=30"), 70 * s, MustValidate, false, false},
		{"5861 3 must-revalidate refuses stale-while-revalidate", Policy{}, nil, resp(200, "Cache-Control", "max-age=60, stale-while-revalidate=30, must-revalidate"), 70 * s, MustValidate, false, false},
		{"5861 4 within stale-if-error", Policy{}, nil, resp(200, "Cache-Control", "max-age=60, stale-if-error=60"), 120 * s, MustValidate, true, false},
		{"5861 4 beyond stale-if-error", Policy{}, nil, resp(200, "Cache-Control", "max-age=60, stale-if-error=60"), 121 * s, MustValidate, false, false},
		{"5861 4 policy default stale-if-error", Policy{StaleIfError: time.Hour}, nil, resp(200, "Cache-Control", "max-age=60"), 30 * time.Minute, MustValidate, true, false},
		{"5861 4 request stale-if-error", Policy{}, hdr("Cache-Control", "stale-if-error=100"), resp(200, "Cache-Control", "max-age=60"), 150 * s, MustValidate, true, false},
		{"9111 4.2.4 no-cache forbids stale-if-error", Policy{StaleIfError: time.Hour}, nil, resp(200, "Cache-Control", "no-cache", "ETag", `"a"`), 10 * s, MustValidate, false, false},
		{"9111 5.2.1.7 only-if-cached reported", Policy{}, hdr("Cache-Control", "only-if-cached"), resp(200, "Cache-Control", "max-age=60"), 90 * s, MustValidate, false, true},
		{"9111 4.2.2 heuristic freshness used", Policy{}, nil, resp(200, "Date", at(0), "Last-Modified", at(-10*time.Hour)), 59 * time.Minute, Fresh, true, false},
		{"9111 3 not stored is never usable", Policy{}, nil, resp(200, "Cache-Control", "no-store"), 0, MustValidate, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Method: "GET", Header: tt.reqHdr}
			d := tt.policy.Storable(getReq(), tt.resp)
			u := tt.policy.Evaluate(req, tt.resp, d, t0.Add(tt.elapsed))
			if u.State != tt.state || u.StaleIfError != tt.sie || u.OnlyIfCached != tt.onlyIf {
				t.Errorf("Evaluate = %+v, want state %v stale-if-error %v only-if-cached %v (decision %+v)", u, tt.state, tt.sie, tt.onlyIf, d)
			}
		})
	}
}

func TestPolicy_Evaluate_ageAndTTL(t *testing.T) {
	r := resp(200, "Date", at(-10*time.Second), "Cache-Control", "max-age=60")
	d := Policy{}.Storable(getReq(), r)
	u := Policy{}.Evaluate(getReq(), r, d, t0.Add(20*time.Second))
	if u.Age != 30*time.Second || u.TTL != 30*time.Second {
		t.Errorf("9111 4.2 age/ttl = %v/%v, want 30s/30s", u.Age, u.TTL)
	}
	u = Policy{}.Evaluate(getReq(), r, d, t0.Add(55*time.Second))
	if u.TTL != -5*time.Second {
		t.Errorf("9111 4.2 ttl when stale = %v, want -5s", u.TTL)
	}
}
