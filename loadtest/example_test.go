package loadtest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/loadtest"
)

func ExampleParseTargets() {
	targets, err := loadtest.ParseTargets(strings.NewReader(`
# a cached asset, asked for by its virtual host
GET http://127.0.0.1:8080/wp-content/logo.png
Host: www.example.com

PURGE http://127.0.0.1:8080/wp-content/logo.png
`), loadtest.ParseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range targets {
		fmt.Println(t.Method, t.URL, t.Header)
	}
	// Output:
	// GET http://127.0.0.1:8080/wp-content/logo.png map[Host:[www.example.com]]
	// PURGE http://127.0.0.1:8080/wp-content/logo.png map[]
}

// An open-loop attack against a stand-in Hitter, summarised as vegeta's text report would.
func ExampleAttacker() {
	attacker, err := loadtest.NewAttacker(loadtest.AttackConfig{
		Name:     "example",
		Pacer:    loadtest.ConstantPacer{Rate: 1000},
		Duration: 20 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	hitter := loadtest.HitterFunc(func(_ context.Context, seq uint64, r *loadtest.Result) {
		r.Code, r.BytesIn = 200, 512
	})
	agg := loadtest.NewAggregator(loadtest.AggregatorOptions{})
	sum := attacker.Attack(context.Background(), hitter, agg.Add)
	m := agg.Metrics()
	fmt.Println(sum.Requests, "requests;", m.StatusCodes, "success", m.Success, "bytes in", m.BytesIn.Total)
	// Output: 20 requests; map[200:20] success 1 bytes in 10240
}

func ExampleWriteHist() {
	buckets, _ := loadtest.ParseHistBuckets("hist[0,10ms,100ms]")
	agg := loadtest.NewAggregator(loadtest.AggregatorOptions{Buckets: buckets})
	for _, ms := range []int{1, 5, 20, 30, 40, 500} {
		agg.Add(&loadtest.Result{Code: 200, Latency: time.Duration(ms) * time.Millisecond})
	}
	_ = loadtest.WriteHist(os.Stdout, agg.Buckets())
	// Output:
	// Bucket           #  %       Histogram
	// [0s,     10ms]   2  33.33%  #########################
	// [10ms,   100ms]  3  50.00%  #####################################
	// [100ms,  +Inf]   1  16.67%  ############
}
