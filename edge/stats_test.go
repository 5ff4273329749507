package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/shoal-cdn/shoal/origin"
)

func TestNode_statsJSONReportsCacheAndPools(t *testing.T) {
	up := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("hello"))
	})
	n := startNode(t, fmt.Sprintf(`node: {name: stats-node}
cache: {memory: 64MiB}
origins:
  zeta: {servers: [{url: %s, id: z1}]}
  alpha: {balance: leastconn, servers: [{url: %s, id: a1, weight: 3}, {url: %s, id: a2, weight: 0}]}
routes:
  - {match: {path_prefix: /a/}, origin: alpha}
  - {match: {path_prefix: /}, origin: zeta, cache: true}
`, up.URL, up.URL, "http://"+testenv.FreePort(t)), Options{})
	get(t, "http://"+n.HTTPAddr()+"/cached")
	n.settleFills()
	get(t, "http://"+n.HTTPAddr()+"/cached")
	get(t, "http://"+n.HTTPAddr()+"/a/pass")

	status, h, body := get(t, "http://"+n.AdminAddr()+"/stats.json")
	if status != 200 || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("/stats.json: %d %v", status, h)
	}
	var s statsSnapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if s.Node != "stats-node" || s.Time.IsZero() {
		t.Errorf("node %q time %v", s.Node, s.Time)
	}
	if c := s.Cache; c.Hits != 1 || c.Misses != 1 || c.HitRatio != 0.5 || c.Objects != 1 || c.Bytes <= 0 {
		t.Errorf("cache stats %+v, want 1 hit, 1 miss, ratio 0.5, 1 object", c)
	}
	if len(s.Pools) != 2 || s.Pools[0].Name != "alpha" || s.Pools[1].Name != "zeta" {
		t.Fatalf("pools not listed by name: %+v", s.Pools)
	}
	alpha := s.Pools[0]
	if alpha.Balance != "leastconn" || !alpha.Healthy || len(alpha.Servers) != 2 {
		t.Fatalf("alpha %+v", alpha)
	}
	a1, a2 := alpha.Servers[0], alpha.Servers[1]
	if a1.ID != "a1" || a1.URL != up.URL || a1.State != origin.StateUp || a1.Weight != 3 || a1.Requests != 1 || a1.Errors != 0 || a1.MeanLatency <= 0 {
		t.Errorf("a1 %+v", a1)
	}
	if a2.ID != "a2" || a2.State != origin.StateDrain || a2.Requests != 0 {
		t.Errorf("a2 %+v", a2)
	}
	if z := s.Pools[1].Servers[0]; z.Requests != 1 {
		t.Errorf("zeta served %d requests, want 1 (the second was a hit)", z.Requests)
	}
}

func TestNode_statsPageIsSelfRefreshingHTML(t *testing.T) {
	up := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n := startNode(t, oneRoute(false, up.URL), Options{})
	status, h, body := get(t, "http://"+n.AdminAddr()+"/stats")
	if status != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("/stats: %d %v", status, h)
	}
	for _, want := range []string{`<meta http-equiv="refresh" content="2">`, "Shoal node test-edge", `data-pool="o"`, up.URL, `state-up">up<`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, external := range []string{"<script", "<link", "src=", "http-equiv=\"refresh\" content=\"2;"} {
		if strings.Contains(body, external) {
			t.Errorf("page has %q: it must be self-contained", external)
		}
	}
}

// Names come from configuration files and check details from origin servers: none of it may
// become markup.
func TestStatsTemplate_escapesEverything(t *testing.T) {
	evil := `<script>alert("x")</script>`
	snap := statsSnapshot{Node: evil, Time: time.Unix(0, 0), Pools: []origin.PoolSnapshot{{
		Name: evil, Balance: evil, Servers: []origin.ServerSnapshot{{
			ID: evil, URL: "javascript:" + evil, State: `up" onclick="x`,
			LastCheck: origin.CheckResult{Detail: evil, Time: time.Unix(0, 0)},
		}},
	}}}
	var buf bytes.Buffer
	if err := statsTemplate.Execute(&buf, newStatsView(snap)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "<script") || strings.Contains(out, `" onclick="`) {
		t.Errorf("unescaped input in the page:\n%s", out)
	}
	if !strings.Contains(out, html.EscapeString(evil)) && !strings.Contains(out, "&lt;script&gt;") {
		t.Errorf("escaped name missing from the page")
	}
}

func TestNode_statsObeysAdminAllow(t *testing.T) {
	up := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	cases := []struct {
		allow string
		want  int
	}{
		{"", http.StatusOK}, // default: loopback only
		{"admin: {allow: [10.0.0.0/8]}\n", http.StatusForbidden},
		{"admin: {allow: [10.0.0.0/8, 127.0.0.0/8]}\n", http.StatusOK},
	}
	for _, c := range cases {
		n := startNode(t, c.allow+oneRoute(false, up.URL), Options{})
		for _, path := range []string{"/stats", "/stats.json"} {
			status, _, body := get(t, "http://"+n.AdminAddr()+path)
			if status != c.want {
				t.Errorf("allow %q: %s = %d, want %d", c.allow, path, status, c.want)
			}
			if status == http.StatusForbidden && strings.Contains(body, up.URL) {
				t.Errorf("403 leaks origin addresses")
			}
		}
	}
}

// chromium renders url headless and returns the DOM it built; with screenshot set it also
// writes a PNG of the page there.
func chromium(t *testing.T, url, screenshot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,900"}
	if screenshot != "" {
		args = append(args, "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromiumPath, append(args, url)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

const chromiumPath = "/usr/bin/chromium"

var (
	serverRowRE = regexp.MustCompile(`(?s)<tr class="server"[^>]*>(.*?)</tr>`)
	tagRE       = regexp.MustCompile(`<[^>]*>`)
	spaceRE     = regexp.MustCompile(`\s+`)
)

// visibleRows is the text a person reads in each server row of the rendered page, by server id.
func visibleRows(dom string) map[string]string {
	rows := map[string]string{}
	for _, m := range serverRowRE.FindAllStringSubmatch(dom, -1) {
		text := strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(m[1], " ")), " "))
		id, _, _ := strings.Cut(text, " ")
		rows[id] = text
	}
	return rows
}

// The page a person opens in a browser names every pool and server with its state, and shows
// a killed server down once the health checks have noticed.
func TestNode_statsPageInHeadlessChromium(t *testing.T) {
	_, err := os.Stat(chromiumPath)
	testenv.Require(t, err == nil, "chromium is not installed (scripts/test-deps.sh installs it)")
	static := [2]*testenv.Nginx{staticNginx(t, "static-a"), staticNginx(t, "static-b")}
	dynamic := [2]*testenv.Nginx{dynamicNginx(t, "app-a"), dynamicNginx(t, "app-b")}
	n := startNode(t, separationConfig(static, dynamic), Options{})
	for i := range 3 {
		get(t, fmt.Sprintf("http://%s/static/app.js?n=%d", n.HTTPAddr(), i))
		get(t, fmt.Sprintf("http://%s/app/page?n=%d", n.HTTPAddr(), i))
	}
	page := "http://" + n.AdminAddr() + "/stats"
	urls := map[string]string{"static-a": static[0].URL, "static-b": static[1].URL, "app-a": dynamic[0].URL, "app-b": dynamic[1].URL}

	check := func(dom string, states map[string]string) {
		t.Helper()
		text := spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(dom, " ")), " ")
		for _, want := range []string{"Shoal node shoal-sep", "Pool dynamic", "Pool static", "hit ratio"} {
			if !strings.Contains(text, want) {
				t.Errorf("rendered page does not show %q", want)
			}
		}
		rows := visibleRows(dom)
		for id, state := range states {
			row, ok := rows[id]
			if !ok {
				t.Errorf("rendered page has no row for server %s; rows: %v", id, rows)
				continue
			}
			if !strings.HasPrefix(row, id+" "+urls[id]+" "+state+" ") {
				t.Errorf("row of %s reads %q, want its URL and state %q", id, row, state)
			}
		}
	}
	allUp := map[string]string{"static-a": "up", "static-b": "up", "app-a": "up", "app-b": "up"}
	check(chromium(t, page, ""), allUp)

	dynamic[0].Stop()
	pollUntil(t, 10*time.Second, "app-a down", func() bool { return serverState(n, "dynamic", "app-a") == origin.StateDown })
	check(chromium(t, page, ""), map[string]string{"static-a": "up", "static-b": "up", "app-a": "down", "app-b": "up"})

	shot := filepath.Join(t.TempDir(), "stats.png")
	if dir := os.Getenv("SHOAL_SCREENSHOT_DIR"); dir != "" {
		shot = filepath.Join(dir, "stats.png") // to look at the page by eye
	}
	chromium(t, page, shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	// A blank or error page is nearly one colour; the stats page has text and state badges.
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	if b.Dx() < 800 || len(colours) < 20 {
		t.Errorf("screenshot %v with %d colours looks blank", b, len(colours))
	}
}
