package loadtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHTTPHitter_SendsTargetAndRecordsResponse(t *testing.T) {
	type seen struct {
		method, path, host, body string
		header                   http.Header
		closeConn                bool
	}
	var (
		mu   sync.Mutex
		last seen
	)
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = seen{r.Method, r.URL.RequestURI(), r.Host, string(body), r.Header.Clone(), r.Close}
		mu.Unlock()
		w.Header().Set("Cache-Status", "shoal; hit")
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "hello world")
	})
	tests := []struct {
		name       string
		cfg        HTTPConfig
		target     Target
		wantCode   uint16
		wantErr    string
		wantBody   string
		wantHost   string
		wantHeader map[string]string
		wantClose  bool
	}{
		{
			name:     "GET with headers and virtual host",
			cfg:      HTTPConfig{Header: http.Header{"X-Global": {"g"}, "X-Both": {"global"}}},
			target:   Target{Method: "GET", URL: srv.URL + "/obj/1?q=2", Header: http.Header{"x-both": {"target"}, "Host": {"www.example.test"}}},
			wantCode: 200, wantHost: "www.example.test",
			wantHeader: map[string]string{"X-Global": "g", "X-Both": "target"},
		},
		{
			name:     "POST body, full body kept, no keep-alive",
			cfg:      HTTPConfig{MaxBody: -1, DisableKeepAlive: true},
			target:   Target{Method: "POST", URL: srv.URL + "/p", Body: []byte("payload")},
			wantCode: 200, wantBody: "hello world", wantClose: true,
		},
		{
			name:     "body truncated to MaxBody",
			cfg:      HTTPConfig{MaxBody: 5},
			target:   Target{Method: "GET", URL: srv.URL + "/t"},
			wantCode: 200, wantBody: "hello",
		},
		{
			name:     "error status becomes the error text",
			target:   Target{Method: "GET", URL: srv.URL + "/fail"},
			wantCode: 503, wantErr: "503 Service Unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHTTPHitter(tt.cfg, StaticTargets([]Target{tt.target}))
			defer h.Close()
			var r Result
			h.Hit(context.Background(), 0, &r)
			if r.Code != tt.wantCode || r.Error != tt.wantErr || string(r.Body) != tt.wantBody {
				t.Fatalf("result code %d err %q body %q", r.Code, r.Error, r.Body)
			}
			if r.Method != tt.target.Method || r.URL != tt.target.URL || r.BytesIn != 11 || r.BytesOut != uint64(len(tt.target.Body)) {
				t.Fatalf("result %+v", r)
			}
			if got := headerValueFold(r.Headers, "Cache-Status"); got != "shoal; hit" {
				t.Fatalf("response headers %v", r.Headers)
			}
			mu.Lock()
			defer mu.Unlock()
			if last.method != tt.target.Method || last.body != string(tt.target.Body) || !strings.HasPrefix(tt.target.URL, srv.URL+last.path) {
				t.Fatalf("server saw %+v", last)
			}
			if tt.wantHost != "" && last.host != tt.wantHost {
				t.Fatalf("server saw Host %q, want %q", last.host, tt.wantHost)
			}
			for k, v := range tt.wantHeader {
				if got := last.header.Values(k); len(got) != 1 || got[0] != v {
					t.Fatalf("server saw %s = %q, want [%q]", k, got, v)
				}
			}
			if last.closeConn != tt.wantClose {
				t.Fatalf("Connection: close = %v, want %v", last.closeConn, tt.wantClose)
			}
		})
	}
}

func TestHTTPHitter_TransportErrorIsCodeZero(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	h := NewHTTPHitter(HTTPConfig{Timeout: 2 * time.Second}, oneTarget("http://"+addr+"/"))
	defer h.Close()
	var r Result
	h.Hit(context.Background(), 0, &r)
	if r.Code != 0 || r.Error == "" {
		t.Fatalf("result %+v, want code 0 with an error", r)
	}
}
