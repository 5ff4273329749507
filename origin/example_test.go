package origin_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin"
	"github.com/valyala/fasthttp"
)

func Example() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the origin")
	}))
	defer backend.Close()

	pool, err := origin.NewPool(&conf.Pool{
		Name:    "dynamic",
		Balance: "leastconn",
		Sticky:  conf.Sticky{Cookie: "SHOALSRV"},
		Servers: []conf.Server{{URL: backend.URL, ID: "app1"}},
	}, origin.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pool.Start()
	defer pool.Close()

	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://www.example.com/cart")
	resp.StreamBody = true

	res, done, err := pool.Do(req, resp, origin.Target{StickyID: "", Idempotent: true})
	if err != nil {
		fmt.Println("502 or 504:", err)
		return
	}
	body, _ := io.ReadAll(resp.BodyStream())
	done() // after the body, before resp is released

	fmt.Println(resp.StatusCode(), string(body))
	fmt.Println("server:", res.Server)
	fmt.Println("set-cookie:", strings.Split(res.SetCookie, ";")[0])
	// Output:
	// 200 hello from the origin
	// server: app1
	// set-cookie: SHOALSRV=app1
}
