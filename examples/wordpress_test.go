package examples

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// wordpressNginx answers as a WordPress site does: PHP pages that set WordPress cookies and
// say X-Powered-By, static files some plugins set cookies on, and the admin behind login.
// Each answer echoes the Cookie it received, so the test sees what reached the origin.
const wordpressNginx = `
add_header X-Powered-By "PHP/8.2";
location = /health.html { return 200 "OK\n"; }
location ~ \.css$ {
  add_header X-Served-By nginx always;
  add_header Set-Cookie "pll_language=en; path=/";
  return 200 "css cookie=[$http_cookie] args=[$args]\n";
}
location /wp-login.php {
  add_header X-Powered-By "PHP/8.2";
  add_header Set-Cookie "wordpress_test_cookie=WP%20Cookie%20check; path=/";
  return 200 "login cookie=[$http_cookie]\n";
}
location /wp-admin/ {
  add_header X-Powered-By "PHP/8.2";
  add_header Set-Cookie "wordpress_logged_in_0123abcd=admin%7C1700000000; path=/";
  return 200 "admin cookie=[$http_cookie]\n";
}
location / {
  add_header X-Powered-By "PHP/8.2";
  add_header Set-Cookie "wp_lang=en_US; path=/";
  return 200 "page $uri cookie=[$http_cookie] args=[$args]\n";
}`

// TestWordPress_example drives examples/wordpress/shoal.yaml against an nginx origin that
// behaves like WordPress.
func TestWordPress_example(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: wordpressNginx})
	dir := copyDir(t, "wordpress")
	data, err := os.ReadFile(filepath.Join(dir, "shoal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		`http: ":8080"`, `http: "127.0.0.1:0"`,
		`admin: "127.0.0.1:9090"`, `admin: "127.0.0.1:0"`,
		"http://127.0.0.1:8081", ngx.URL,
		"interval: 2s, timeout: 1s, rise: 2, fall: 2", "interval: 100ms, timeout: 50ms, rise: 1, fall: 1",
	).Replace(string(data))
	cfg, err := conf.Parse([]byte(text), "wordpress.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := edge.New(cfg, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	base := "http://" + n.HTTPAddr()
	secure := func(what string, h http.Header) {
		t.Helper()
		if h.Get("Strict-Transport-Security") != "max-age=31536000" || h.Get("X-Frame-Options") != "SAMEORIGIN" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Powered-By") != "" {
			t.Errorf("%s: security headers wrong: %v", what, h)
		}
	}

	// Static files: cookie-free both ways, cached a day, tracking parameters dropped.
	_, h, body := wpGet(t, base+"/wp-content/themes/t/style.css?ver=6.4&utm_source=news", "Cookie", "wp_lang=en_US")
	if body != "css cookie=[] args=[ver=6.4]\n" || h.Get("Set-Cookie") != "" || !strings.Contains(h.Get("Cache-Status"), "stored") {
		t.Errorf("static miss: %q Set-Cookie %q Cache-Status %q", body, h.Get("Set-Cookie"), h.Get("Cache-Status"))
	}
	secure("static", h)
	_, h, _ = wpGet(t, base+"/wp-content/themes/t/style.css?ver=6.4&gclid=abc")
	if cs := h.Get("Cache-Status"); !strings.Contains(cs, "hit") || ttlOf(cs) < 86000 {
		t.Errorf("static hit: Cache-Status %q, want a hit with a day's ttl", cs)
	}

	// Pages: anonymous visitors share one cached page without cookies.
	_, h, body = wpGet(t, base+"/hello-world/?utm_campaign=x", "Cookie", "wp_lang=en_US")
	if body != "page /hello-world/ cookie=[] args=[]\n" || h.Get("Set-Cookie") != "" {
		t.Errorf("anonymous page: %q Set-Cookie %q", body, h.Get("Set-Cookie"))
	}
	secure("page", h)
	_, h, _ = wpGet(t, base+"/hello-world/")
	if !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("anonymous page again: %q", h.Get("Cache-Status"))
	}

	// A logged-in user is passed, with the cookies.
	_, h, body = wpGet(t, base+"/hello-world/", "Cookie", "wordpress_logged_in_0123abcd=admin%7C1700000000; wp_lang=en_US")
	if !strings.Contains(h.Get("Cache-Status"), "fwd=bypass") || !strings.Contains(body, "wordpress_logged_in_0123abcd=admin") {
		t.Errorf("logged-in page: %q %q", h.Get("Cache-Status"), body)
	}

	// The admin and the login are passed, and their cookies reach the browser.
	for _, path := range []string{"/wp-admin/", "/wp-login.php"} {
		_, h, body = wpGet(t, base+path, "Cookie", "wordpress_test_cookie=WP%20Cookie%20check")
		if !strings.Contains(h.Get("Cache-Status"), "fwd=bypass") || h.Get("Set-Cookie") == "" || !strings.Contains(body, "wordpress_test_cookie") {
			t.Errorf("%s: Cache-Status %q Set-Cookie %q body %q", path, h.Get("Cache-Status"), h.Get("Set-Cookie"), body)
		}
		secure(path, h)
	}
	// nginx logs a request after answering it: wait for the line before counting.
	for deadline := time.Now().Add(2 * time.Second); ngx.Requests("/wp-admin/") < 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := ngx.Requests("/wp-admin/"); got != 1 {
		t.Errorf("origin saw /wp-admin/ %d times, want 1", got)
	}

	// The origin goes down: its health check fails, and the node answers with the 503 page.
	ngx.Stop()
	page, _ := os.ReadFile(filepath.Join(dir, "503.html"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, h, body := wpGet(t, base+"/wp-admin/")
		if status == 503 && body == string(page) && strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			secure("503 page", h)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("origin down: %d %q %q", status, h.Get("Content-Type"), body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wpGet(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func ttlOf(cacheStatus string) int {
	_, rest, _ := strings.Cut(cacheStatus, "ttl=")
	end := strings.IndexAny(rest, ";, ")
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}
