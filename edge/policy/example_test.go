package policy_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/shoal-cdn/shoal/edge/policy"
)

func ExampleCompile() {
	rules, err := policy.Compile(policy.Config{
		PathPrefix: "/old/",
		TTL:        policy.TTL{Status: map[int]time.Duration{200: 24 * time.Hour, 404: time.Minute}},
		Key:        policy.Key{IgnoreParams: []string{"utm_*", "gclid"}},
		Redirect:   policy.Redirect{To: "https://www.example.com/new${path_after_prefix}", Status: 301},
		Access:     policy.Access{Deny: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	life, storable, _ := rules.TTL.Freshness(404, 0, false)
	fmt.Println("404:", life, storable)
	fmt.Println("query:", rules.Key.Query("id=7&utm_source=mail&gclid=x"))
	loc, _ := rules.Redirect.Location(nil, rules.Vars(&policy.Vars{Path: "/old/a/b.html"}))
	fmt.Println("redirect:", rules.Redirect.Status(), string(loc))
	fmt.Println("192.0.2.9 allowed:", rules.Access.Allowed(netip.MustParseAddr("192.0.2.9")))
	// Output:
	// 404: 1m0s true
	// query: id=7
	// redirect: 301 https://www.example.com/new/a/b.html
	// 192.0.2.9 allowed: false
}

func ExampleParseTemplate() {
	_, err := policy.ParseTemplate("${node}-${hostname}", false)
	fmt.Println(err)
	// Output: unknown variable ${hostname} (known: ${client_ip} ${node} ${request_id} ${host} ${path} ${path_after_prefix})
}
