package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shoal-cdn/shoal/loadtest"
)

// A fixed-rate attack from a test: 100 requests a second for 100ms, spread over the bases,
// summarised by vegeta's Metrics.
func ExampleRun() {
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer node.Close()

	ks := loadtest.KeySpace{Bases: []string{node.URL}}
	m, err := loadtest.Run(context.Background(), loadtest.Config{
		Pacer:    loadtest.PerSecond(100),
		Duration: 100 * time.Millisecond,
	}, loadtest.HitTargeter(ks, 10))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Requests, m.StatusCodes, m.Success)
	// Output: 10 map[200:10] 1
}
