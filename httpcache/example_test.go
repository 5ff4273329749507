package httpcache_test

import (
	"fmt"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

func Example() {
	policy := httpcache.Policy{StaleIfError: time.Hour}
	sent := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	req := httpcache.Request{Method: "GET", Header: httpcache.Header{{Name: "Accept-Encoding", Value: "gzip, br"}}}
	resp := httpcache.Response{
		Status: 200,
		Header: httpcache.Header{
			{Name: "Date", Value: httpcache.FormatHTTPDate(sent)},
			{Name: "Cache-Control", Value: "max-age=60, stale-while-revalidate=30"},
			{Name: "Vary", Value: "Accept-Encoding"},
		},
		RequestTime:  sent,
		ResponseTime: sent,
	}

	d := policy.Storable(req, resp)
	key, _ := httpcache.SecondaryKey(httpcache.VaryNames(resp.Header), req.Header)
	fmt.Printf("store=%v lifetime=%v variant=%q\n", d.Store, d.Lifetime, key)

	for _, after := range []time.Duration{10 * time.Second, 75 * time.Second, 2 * time.Minute} {
		u := policy.Evaluate(req, resp, d, sent.Add(after))
		status := httpcache.CacheStatus{Cache: "shoal", Hit: u.State != httpcache.MustValidate,
			TTL: int64(u.TTL / time.Second), HasTTL: true, Detail: "edge-1"}
		if !status.Hit {
			status.Fwd = "stale"
		}
		fmt.Printf("after %v: state=%d age=%s %s\n", after, u.State, httpcache.AgeValue(u.Age), status)
	}
	// Output:
	// store=true lifetime=1m0s variant="accept-encoding=2:br\n"
	// after 10s: state=0 age=10 shoal; hit; ttl=50; detail=edge-1
	// after 1m15s: state=1 age=75 shoal; hit; ttl=-15; detail=edge-1
	// after 2m0s: state=2 age=120 shoal; fwd=stale; ttl=-60; detail=edge-1
}
