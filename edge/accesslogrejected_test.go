package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The access log had three faults an operator reading it for attacks meets at once: requests
// the listener refused (400, 414, 431) were never logged, as nginx and HAProxy log them; the
// combined format wrote "HTTP/1.1" whatever the client spoke; and a missing Referer or
// User-Agent was "" instead of "-". Hostile bytes in logged values are escaped nginx's way.
func TestNode_accessLogRecordsRefusalsProtocolsAndEscapes(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("12345")) })
	for _, format := range []string{"combined", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf syncBuffer
			n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
limits: {max_header_bytes: 4KiB}
log: {access: %s}
`, format)+oneRoute(false, origin.URL), Options{AccessLog: &buf})
			addr := n.HTTPAddr()
			steps := []struct {
				name     string
				send     func()
				combined string // substring of the combined line
				status   int
				proto    string // the JSON record's protocol
			}{
				{"HTTP/1.0", func() { rawRequest(t, addr, "GET /ten HTTP/1.0\r\nHost: www.test\r\n\r\n") },
					`"GET /ten HTTP/1.0" 200 5 "-" "-"`, 200, "HTTP/1.0"},
				// Served as 1.1 (RFC 9110 section 2.5), logged as sent, as nginx logs it.
				// Failed before: logged HTTP/1.1.
				{"HTTP/1.2", func() { rawRequest(t, addr, "GET /twelve HTTP/1.2\r\nHost: www.test\r\nConnection: close\r\n\r\n") },
					`"GET /twelve HTTP/1.2" 200 5 "-" "-"`, 200, "HTTP/1.2"},
				{"HTTP/1.1 sending the node's version marker", func() {
					rawRequest(t, addr, "GET /forged HTTP/1.1\r\nHost: www.test\r\nShoal-Sent-Version: HTTP/1.5\r\nConnection: close\r\n\r\n")
				}, `"GET /forged HTTP/1.1" 200 5 "-" "-"`, 200, "HTTP/1.1"},
				{"HTTP/1.1 without referer or agent", func() {
					rawRequest(t, addr, "GET /eleven HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n")
				}, `"GET /eleven HTTP/1.1" 200 5 "-" "-"`, 200, "HTTP/1.1"},
				{"HTTP/2", func() {
					res, err := h2cClient().Get("http://" + n.H2CAddr() + "/two")
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
				}, `"GET /two HTTP/2.0" 200 5 "-" "Go-http-client/2.0"`, 200, "HTTP/2.0"},
				{"hostile agent and referer", func() {
					rawRequest(t, addr, "GET /q?a=%22 HTTP/1.1\r\nHost: www.test\r\nUser-Agent: x\" 200 0 \"forged\xff\r\nReferer: a\\b\r\nConnection: close\r\n\r\n")
				}, `"GET /q?a=%22 HTTP/1.1" 200 5 "a\x5Cb" "x\x22 200 0 \x22forged\xFF"`, 200, "HTTP/1.1"},
				{"field name with a space 400 (the pipeline's)", func() {
					rawRequest(t, addr, "GET /bad HTTP/1.1\r\nHost: www.test\r\nBad Field: x\r\n\r\n")
				}, `"GET /bad HTTP/1.1" 400 `, 400, "HTTP/1.1"},
				{"control byte in a field 400 (fasthttp's)", func() {
					rawRequest(t, addr, "GET /esc HTTP/1.1\r\nHost: www.test\r\nUser-Agent: \x1b[31m\r\n\r\n")
				}, `] "-" 400 `, 400, ""},
				{"not HTTP 400", func() { rawRequest(t, addr, "\x16\x03\x01\x02\x00 hello\r\n\r\n") },
					`] "-" 400 `, 400, ""},
				{"head too large 431", func() {
					rawRequest(t, addr, "GET /big HTTP/1.1\r\nHost: www.test\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
				}, `] "-" 431 `, 431, ""},
				{"URI too long 414", func() {
					rawRequest(t, addr, "GET /"+strings.Repeat("u", 8<<10)+" HTTP/1.1\r\nHost: www.test\r\n\r\n")
				}, `] "-" 414 `, 414, ""},
			}
			for _, s := range steps {
				before := len(buf.String())
				s.send()
				line := waitLogLine(&buf, before)
				if line == "" {
					t.Errorf("%s: no access record", s.name)
					continue
				}
				if format == "combined" {
					if !strings.Contains(line, s.combined) || strings.ContainsAny(strings.TrimSuffix(line, "\n"), "\r\n\x1b") {
						t.Errorf("%s: combined line %q, want %q in it and no control bytes", s.name, line, s.combined)
					}
					continue
				}
				var e struct {
					Status   int    `json:"status"`
					Protocol string `json:"protocol"`
					Result   string `json:"result"`
				}
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("%s: not JSON: %q", s.name, line)
				}
				if e.Status != s.status || (s.proto != "" && e.Protocol != s.proto) || (s.status >= 400 && e.Result != "rejected") {
					t.Errorf("%s: record %+v, want status %d protocol %q", s.name, e, s.status, s.proto)
				}
			}
		})
	}
}

// waitLogLine waits up to 5 s for a record after offset before of buf.
func waitLogLine(buf *syncBuffer, before int) string {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s := buf.String(); len(s) > before && strings.HasSuffix(s, "\n") {
			return s[before:]
		}
	}
	return ""
}
