package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// FuzzNode_originCacheControlAndVary feeds arbitrary Cache-Control and Vary values from an
// origin through a node: it must never panic and must always answer, on the miss and on the
// request after it.
func FuzzNode_originCacheControlAndVary(f *testing.F) {
	for _, seed := range [][2]string{
		{"max-age=60", "Accept-Language"},
		{"no-cache=\"Set-Cookie\", max-age=60", "*"},
		{"private=\"X-A, X-B\", s-maxage=1", "Accept-Encoding, ,Accept-Language"},
		{"max-age=99999999999999999999, stale-while-revalidate=-1", "Ünicode"},
		{"must-understand, no-store, max-age=\"10", "accept-language, ACCEPT-LANGUAGE"},
		{",,,=,;", "\"quoted\""},
	} {
		f.Add(seed[0], seed[1])
	}
	clock := newTestClock()
	var cc, vary atomic.Value
	cc.Store("")
	vary.Store("")
	origin := startOrigin(f, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", cc.Load().(string))
		w.Header().Set("Vary", vary.Load().(string))
		w.Header().Set("ETag", `"f"`)
		fmt.Fprint(w, "fuzz")
	})
	// Passive ejection off: refused responses must not take the only server out.
	cfg := strings.Replace(oneRoute(true, origin.URL), "    servers:\n", "    passive: {errors: -1}\n    servers:\n", 1)
	n := startNode(f, cfg, Options{Now: clock.Now})
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, cacheControl, varyValue string) {
		if strings.ContainsAny(cacheControl+varyValue, "\r\n\x00") {
			t.Skip("not a field value")
		}
		cc.Store(cacheControl)
		vary.Store(varyValue)
		path := fmt.Sprintf("/fuzz/%d", seq.Add(1))
		for i := 0; i < 2; i++ {
			req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
			req.Header.Set("Accept-Language", "en")
			resp, err := rfcClient.Do(req)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			resp.Body.Close()
			// 502: the origin's field was not a valid field value (e.g. DEL), refused.
			if resp.StatusCode != 200 && resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("request %d: status %d", i, resp.StatusCode)
			}
		}
	})
}
