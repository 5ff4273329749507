package policy

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestLifetime_Freshness(t *testing.T) {
	day, min := 24*time.Hour, time.Minute
	status := map[int]time.Duration{200: day, 404: min, 301: time.Hour}
	cases := []struct {
		name     string
		ttl      TTL
		status   int
		origin   time.Duration
		explicit bool
		want     time.Duration
		storable bool
		ok       bool
	}{
		{"no rules: origin kept", TTL{}, 200, 5 * time.Second, true, 5 * time.Second, false, false},
		{"status TTL when the origin says nothing", TTL{Status: status}, 200, 0, false, day, true, true},
		{"status TTL over a heuristic", TTL{Status: status}, 200, 7 * time.Second, false, day, true, true},
		{"origin's explicit freshness wins without override", TTL{Status: status}, 200, 10 * time.Second, true, 10 * time.Second, false, false},
		{"override wins over the origin", TTL{Status: status, Override: true}, 200, 10 * time.Second, true, day, true, true},
		{"negative caching of 404", TTL{Status: status}, 404, 0, false, min, true, true},
		{"redirect cached", TTL{Status: status}, 301, 0, false, time.Hour, true, true},
		{"status not listed: origin kept", TTL{Status: status}, 500, 0, false, 0, false, false},
		{"min raises the origin's", TTL{Min: time.Minute}, 200, 5 * time.Second, true, time.Minute, false, true},
		{"min does not make a response storable", TTL{Min: time.Minute}, 200, 0, false, 0, false, false},
		{"max lowers the origin's", TTL{Max: time.Hour}, 200, day, true, time.Hour, false, true},
		{"max lowers a status TTL", TTL{Status: status, Max: time.Hour}, 200, 0, false, time.Hour, true, true},
		{"min over a status TTL", TTL{Status: status, Min: 2 * time.Minute}, 404, 0, false, 2 * time.Minute, true, true},
		{"explicit zero raised by min", TTL{Min: time.Minute}, 200, 0, true, time.Minute, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compile(Config{TTL: c.ttl})
			if err != nil {
				t.Fatal(err)
			}
			got, storable, ok := r.TTL.Freshness(c.status, c.origin, c.explicit)
			if got != c.want || storable != c.storable || ok != c.ok {
				t.Errorf("Freshness(%d, %s, %v) = %s, %v, %v; want %s, %v, %v", c.status, c.origin, c.explicit, got, storable, ok, c.want, c.storable, c.ok)
			}
		})
	}
}

func TestKeyRules_Query(t *testing.T) {
	cases := []struct {
		ignore []string
		in     string
		want   string
	}{
		{nil, "a=1&utm_source=x", "a=1&utm_source=x"},
		{[]string{"utm_*", "gclid", "fbclid"}, "a=1&utm_source=x&b=2&utm_medium=y", "a=1&b=2"},
		{[]string{"utm_*", "gclid"}, "gclid=abc", ""},
		{[]string{"gclid"}, "gclidx=1&gclid=2", "gclidx=1"},
		{[]string{"gclid"}, "a=1&&gclid", "a=1"},
		{[]string{"gclid"}, "a=1&b=2", "a=1&b=2"},
		{[]string{"*"}, "a=1&b=2", ""},
		{[]string{"utm_*"}, "", ""},
		{[]string{"utm_*"}, "utm_=1&utmx=2", "utmx=2"},
		// Names are compared as sent: an encoded name is another parameter.
		{[]string{"gclid"}, "gcl%69d=1", "gcl%69d=1"},
		{[]string{"a"}, "a&a=&a=1&b", "b"},
	}
	for _, c := range cases {
		r, err := Compile(Config{Key: Key{IgnoreParams: c.ignore}})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Key.Query(c.in); got != c.want {
			t.Errorf("ignore %v: Query(%q) = %q, want %q", c.ignore, c.in, got, c.want)
		}
	}
}

func TestKeyRules_QueryKeptAllocatesNothing(t *testing.T) {
	r, _ := Compile(Config{Key: Key{IgnoreParams: []string{"utm_*", "gclid"}}})
	q := "a=1&b=2&c=3"
	if n := testing.AllocsPerRun(100, func() { _ = r.Key.Query(q) }); n != 0 {
		t.Errorf("Query allocated %v times for a query it keeps", n)
	}
}

func TestKeyRules_AppendExtra(t *testing.T) {
	r, _ := Compile(Config{Key: Key{IncludeHeaders: []string{"X-Device"}, IncludeCookies: []string{"lang"}, IgnoreHost: true}})
	if !r.Key.IgnoreHost() {
		t.Error("IgnoreHost is false")
	}
	field := func(v string) func(string) []byte { return func(string) []byte { return []byte(v) } }
	a := string(r.Key.AppendExtra(nil, field("mobile"), field("en")))
	b := string(r.Key.AppendExtra(nil, field("desktop"), field("en")))
	c := string(r.Key.AppendExtra(nil, field("mobile"), field("de")))
	if a == b || a == c || b == c {
		t.Errorf("different fields share a key: %q %q %q", a, b, c)
	}
	if !strings.Contains(a, "X-Device=mobile") || !strings.Contains(a, "lang=en") {
		t.Errorf("extra %q does not name the values", a)
	}
	var none *KeyRules
	if got := none.AppendExtra([]byte("k"), nil, nil); string(got) != "k" {
		t.Errorf("nil rules changed the key: %q", got)
	}
}

func TestCookieRules_Bypass(t *testing.T) {
	r, _ := Compile(Config{Cookies: Cookies{BypassIf: []string{"wordpress_logged_in_*", "comment_author_*", "wp-postpass"}}})
	cases := []struct {
		cookie string
		want   bool
	}{
		{"", false},
		{"wordpress_test_cookie=WP+Cookie+check", false},
		{"wordpress_logged_in_abc123=admin%7C1", true},
		{"a=1; wordpress_logged_in_abc=x; b=2", true},
		{"a=1;wp-postpass=x", true},
		{"a=1; wp-postpass_x=1", false},
		{"wordpress_logged_in=1", false}, // the prefix is "wordpress_logged_in_"
		{" comment_author_1 = x", true},
		{"x=wordpress_logged_in_1", false}, // a value is not a name
	}
	for _, c := range cases {
		if got := r.Cookies.Bypass([]byte(c.cookie)); got != c.want {
			t.Errorf("Bypass(%q) = %v, want %v", c.cookie, got, c.want)
		}
	}
	var none *CookieRules
	if none.Bypass([]byte("wordpress_logged_in_1=x")) {
		t.Error("nil rules bypass")
	}
}

type fakeFields map[string][]string

func (f fakeFields) SetBytesV(n string, v []byte) { f[n] = []string{string(v)} }
func (f fakeFields) AddBytesV(n string, v []byte) { f[n] = append(f[n], string(v)) }
func (f fakeFields) Del(n string)                 { delete(f, n) }

func TestFieldEdits_Apply(t *testing.T) {
	r, err := Compile(Config{
		PathPrefix: "/shop/",
		Request: FieldRules{
			Set:    map[string]string{"x-edge": "${node}", "X-Client": "${client_ip}", "X-Id": "${request_id}"},
			Add:    map[string]string{"X-Trace": "${host}${path} after=${path_after_prefix} $$5"},
			Remove: []string{"x-debug"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := fakeFields{"X-Debug": {"1"}, "X-Edge": {"spoofed"}, "X-Trace": {"first"}}
	v := r.Vars(&Vars{ClientIP: "192.0.2.1", Node: "edge-1", RequestID: "r1", Host: "www.example.com", Path: "/shop/cart"})
	r.Request.Apply(h, v, nil)
	want := fakeFields{"X-Edge": {"edge-1"}, "X-Client": {"192.0.2.1"}, "X-Id": {"r1"},
		"X-Trace": {"first", "www.example.com/shop/cart after=/cart $5"}}
	for k, vs := range want {
		if strings.Join(h[k], "|") != strings.Join(vs, "|") {
			t.Errorf("%s = %q, want %q", k, h[k], vs)
		}
	}
	if _, ok := h["X-Debug"]; ok {
		t.Error("X-Debug not removed")
	}
	if !r.Request.Uses("node") || r.Request.Uses("nothing") || r.Response.Uses("node") {
		t.Error("Uses is wrong")
	}
	// ${node}, ${host} and the paths are the same for every request of a cache key.
	if got := strings.Join(r.Request.PerRequest(), ","); got != "X-Client,X-Id" {
		t.Errorf("PerRequest = %q, want X-Client,X-Id", got)
	}
}

func TestFieldEdits_ConstantAllocatesNothing(t *testing.T) {
	r, _ := Compile(Config{Response: FieldRules{
		Set:    map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Frame-Options": "SAMEORIGIN", "X-Node": "${node}"},
		Remove: []string{"X-Powered-By", "Server"},
	}})
	h := nopFields{}
	v := &Vars{Node: "edge-1"}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = r.Response.Apply(h, v, buf) }); n != 0 {
		t.Errorf("Apply allocated %v times", n)
	}
}

type nopFields struct{}

func (nopFields) SetBytesV(string, []byte) {}
func (nopFields) AddBytesV(string, []byte) {}
func (nopFields) Del(string)               {}

func TestParseTemplate(t *testing.T) {
	cases := []struct {
		in     string
		groups bool
		err    string
	}{
		{"plain", false, ""},
		{"${node}-${client_ip}-${request_id}-${host}-${path}-${path_after_prefix}", false, ""},
		{"${nod}", false, "unknown variable ${nod}"},
		{"${node", false, "unclosed"},
		{"cost $5", false, "lone $"},
		{"$$5", false, ""},
		{"/posts/$1", true, ""},
		{"/posts/$1", false, "lone $"},
		{"${}", false, "unknown variable"},
	}
	for _, c := range cases {
		_, err := ParseTemplate(c.in, c.groups)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.err)
		}
	}
}

func TestRedirectRule_Location(t *testing.T) {
	cases := []struct {
		name   string
		prefix string
		c      Redirect
		path   string
		want   string
		status int
		ok     bool
	}{
		{"prefix", "/old/", Redirect{To: "https://www.example.com/new${path_after_prefix}", Status: 301}, "/old/a/b.html", "https://www.example.com/new/a/b.html", 301, true},
		{"prefix root", "/old/", Redirect{To: "https://www.example.com/new${path_after_prefix}"}, "/old/", "https://www.example.com/new/", 301, true},
		{"host kept", "", Redirect{To: "https://${host}${path}", Status: 308}, "/x", "https://a.example/x", 308, true},
		{"regex", "", Redirect{Regex: `^/blog/(\d+)/(\w+)$`, To: "/posts/$2?id=$1", Status: 302}, "/blog/42/hello", "/posts/hello?id=42", 302, true},
		{"regex no match", "", Redirect{Regex: `^/blog/(\d+)$`, To: "/posts/$1", Status: 307}, "/blog/x", "", 307, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compile(Config{PathPrefix: c.prefix, Redirect: c.c})
			if err != nil {
				t.Fatal(err)
			}
			loc, ok := r.Redirect.Location(nil, r.Vars(&Vars{Host: "a.example", Path: c.path}))
			if string(loc) != c.want || ok != c.ok || r.Redirect.Status() != c.status {
				t.Errorf("Location = %q, %v, status %d; want %q, %v, %d", loc, ok, r.Redirect.Status(), c.want, c.ok, c.status)
			}
		})
	}
}

func TestRewriteRule_Path(t *testing.T) {
	cases := []struct {
		c        Rewrite
		in, want string
	}{
		{Rewrite{StripPrefix: "/assets"}, "/assets/a.css", "/a.css"},
		{Rewrite{StripPrefix: "/assets/"}, "/assets/a.css", "/a.css"},
		{Rewrite{StripPrefix: "/assets"}, "/assets", "/"},
		{Rewrite{StripPrefix: "/assets"}, "/other/a.css", "/other/a.css"},
		{Rewrite{StripPrefix: "/assets", AddPrefix: "/static"}, "/assets/a.css", "/static/a.css"},
		{Rewrite{StripPrefix: "/assets/", AddPrefix: "/static/"}, "/assets/a.css", "/static/a.css"},
		{Rewrite{AddPrefix: "/v2"}, "/a", "/v2/a"},
	}
	for _, c := range cases {
		r, _ := Compile(Config{Rewrite: c.c})
		if got := r.Rewrite.Path(c.in); got != c.want {
			t.Errorf("%+v: Path(%q) = %q, want %q", c.c, c.in, got, c.want)
		}
	}
}

func TestAccessList_Allowed(t *testing.T) {
	pfx := func(s ...string) (out []netip.Prefix) {
		for _, p := range s {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	cases := []struct {
		allow, deny []netip.Prefix
		addr        string
		want        bool
	}{
		{pfx("10.0.0.0/8"), nil, "10.1.2.3", true},
		{pfx("10.0.0.0/8"), nil, "192.0.2.1", false},
		{pfx("10.0.0.0/8"), nil, "::ffff:10.1.2.3", true},
		{nil, pfx("192.0.2.0/24"), "192.0.2.7", false},
		{nil, pfx("192.0.2.0/24"), "198.51.100.1", true},
		{pfx("10.0.0.0/8"), pfx("192.0.2.0/24"), "192.0.2.7", false},
		{pfx("2001:db8::/32"), nil, "2001:db8::1", true},
		{pfx("2001:db8::/32"), nil, "::1", false},
	}
	for _, c := range cases {
		r, err := Compile(Config{Access: Access{Allow: c.allow, Deny: c.deny}})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Access.Allowed(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("allow %v deny %v: Allowed(%s) = %v", c.allow, c.deny, c.addr, got)
		}
	}
}

func TestCompile_refusals(t *testing.T) {
	cases := []struct {
		name string
		c    Config
		err  string
	}{
		{"unknown variable", Config{Response: FieldRules{Set: map[string]string{"X": "${nodename}"}}}, "unknown variable ${nodename}"},
		{"bad ttl status", Config{TTL: TTL{Status: map[int]time.Duration{999: time.Second}}}, "999 is not an HTTP status"},
		{"negative ttl", Config{TTL: TTL{Status: map[int]time.Duration{200: -time.Second}}}, "negative"},
		{"min above max", Config{TTL: TTL{Min: time.Hour, Max: time.Minute}}, "above max"},
		{"redirect without target", Config{Redirect: Redirect{Status: 301}}, "without a target"},
		{"redirect bad status", Config{Redirect: Redirect{To: "/x", Status: 200}}, "redirect status 200"},
		{"redirect bad regex", Config{Redirect: Redirect{To: "/x", Regex: "("}}, "regex"},
		{"overlap", Config{Access: Access{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Deny: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}}, "overlaps"},
		{"negative body", Config{MaxBodyBytes: -1}, "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.c)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want %q", err, c.err)
			}
		})
	}
}

func TestRules_EmptyAndDescribe(t *testing.T) {
	r, _ := Compile(Config{})
	if !r.Empty() || r.Describe() != nil {
		t.Errorf("zero Config is not empty: %v", r.Describe())
	}
	if r.TTL != nil || r.Key != nil || r.Cookies != nil || r.Request != nil || r.Response != nil || r.Access != nil {
		t.Error("a zero Config compiled non-nil parts")
	}
	r, _ = Compile(Config{TTL: TTL{Status: map[int]time.Duration{404: time.Minute, 200: time.Hour}}, MaxBodyBytes: 10})
	d := strings.Join(r.Describe(), "\n")
	if !strings.Contains(d, "ttl {200=1h0m0s 404=1m0s}") || !strings.Contains(d, "max_body_bytes 10") {
		t.Errorf("Describe = %q", d)
	}
}

func TestErrorPages(t *testing.T) {
	e := &ErrorPages{Pages: map[int]Page{503: NewPage("503.html", []byte("<h1>down</h1>"))}}
	p, ok := e.Page(503)
	if !ok || p.ContentType != "text/html; charset=utf-8" || string(p.Body) != "<h1>down</h1>" {
		t.Errorf("Page(503) = %+v, %v", p, ok)
	}
	if _, ok := e.Page(502); ok {
		t.Error("Page(502) found")
	}
	var none *ErrorPages
	if _, ok := none.Page(503); ok {
		t.Error("nil pages found a page")
	}
	if !ValidErrorPageStatus(429) || ValidErrorPageStatus(200) {
		t.Error("ValidErrorPageStatus")
	}
}

func TestCookieRules_Bypasses(t *testing.T) {
	cases := []struct {
		c    Cookies
		want bool
	}{
		{Cookies{StripRequest: true, StripSetCookie: true}, false},
		{Cookies{BypassIf: []string{"wordpress_logged_in_*"}}, true},
		{Cookies{}, false}, // no rules: a nil *CookieRules
	}
	for _, c := range cases {
		if got := compileCookies(c.c).Bypasses(); got != c.want {
			t.Errorf("%+v: Bypasses() = %v, want %v", c.c, got, c.want)
		}
	}
}
