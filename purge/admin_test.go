package purge

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
)

// adminFixture is one node with no peers, its admin API on 127.0.0.1, and a store holding
// the objects of fixtureObjects.
type adminFixture struct {
	store *cachestore.Memory
	svc   *Service
	srv   *httptest.Server
	objs  []*cachestore.Object
}

func newAdminFixture(t *testing.T, cfg conf.Purge) *adminFixture {
	t.Helper()
	f := &adminFixture{store: newTestMemory(t)}
	f.svc = newTestService(t, cfg, f.store, StaticCluster{Name: "edge-1"}, Options{})
	f.srv = httptest.NewServer(f.svc.AdminHandler())
	t.Cleanup(f.srv.Close)
	f.objs = []*cachestore.Object{
		object("http://www.example.com/a.css", "|gzip"),
		object("http://www.example.com/a.css", "|br"),
		object("http://www.example.com/b?x=1&y=2", ""),
		object("http://www.example.com/img/1.png", "", "product-42"),
		object("http://www.example.com/img/2.png", "", "product-7"),
		object("http://other.example.com/img/3.png", "", "product-42", "other"),
	}
	mustSet(t, f.store, f.objs...)
	return f
}

func (f *adminFixture) post(t *testing.T, body, auth string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/purge", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /purge: %v", err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// untouched fails unless every fixture object is still stored and not marked.
func (f *adminFixture) untouched(t *testing.T) {
	t.Helper()
	for _, o := range f.objs {
		got, ok := f.store.Get(o.Key)
		if !ok || got.SoftPurged() {
			t.Errorf("%s was purged (present %v)", o.Key, ok)
		}
	}
}

func TestAdminHandler_auth(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		allow      []string
		auth       string
		wantStatus int
		wantReason string
		wantMsg    string
	}{
		{"no token configured", "", nil, "Bearer " + testToken, 403, reasonNoToken, "no purge.token_file"},
		{"address not allowed, right token", testToken, []string{"10.0.0.0/8"}, "Bearer " + testToken, 403, reasonAddress, "address not allowed"},
		{"missing token", testToken, nil, "", 401, reasonToken, "bearer token"},
		{"wrong token", testToken, nil, "Bearer " + testToken + "x", 401, reasonToken, "bearer token"},
		{"token prefix", testToken, nil, "Bearer " + testToken[:5], 401, reasonToken, "bearer token"},
		{"basic scheme", testToken, nil, "Basic " + testToken, 401, reasonToken, "bearer token"},
		{"right token", testToken, nil, "Bearer " + testToken, 200, "", ""},
		{"scheme case-insensitive", testToken, []string{"127.0.0.1/32"}, "bearer " + testToken, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAdminFixture(t, conf.Purge{Token: tt.token, Allow: tt.allow})
			compares := 0
			f.svc.equal = func(a, b string) bool { compares++; return SecretEqual(a, b) }

			status, body := f.post(t, `{"all": true}`, tt.auth)
			if status != tt.wantStatus || !strings.Contains(string(body), tt.wantMsg) {
				t.Fatalf("status %d body %s; want %d mentioning %q", status, body, tt.wantStatus, tt.wantMsg)
			}
			if tt.wantStatus != 200 {
				f.untouched(t)
				if got := counterValue(t, f.svc.metrics.refused.WithLabelValues(tt.wantReason)); got != 1 {
					t.Errorf("refused{reason=%q} = %v, want 1", tt.wantReason, got)
				}
				return
			}
			if compares != 1 {
				t.Errorf("token compared %d times through SecretEqual, want 1", compares)
			}
			for _, o := range f.objs {
				if present(f.store, o.Key) {
					t.Errorf("%s still stored after an authorised purge of all", o.Key)
				}
			}
		})
	}
}

func TestConstantTimeEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"secret", "secret", true},
		{"secret", "secreT", false},
		{"secret", "secret-longer", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := SecretEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("SecretEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestAdminHandler_everyKind(t *testing.T) {
	tests := []struct {
		name       string
		kind       Kind
		body       string
		wantPurged []string // keys removed (hard) or marked (soft)
	}{
		{"url, every variant, host and port normalised", KindURL, `{"url": "http://WWW.example.com:80/a.css"}`,
			[]string{"http://www.example.com/a.css|gzip", "http://www.example.com/a.css|br"}},
		{"url with an unreserved character escaped", KindURL, `{"url": "http://www.example.com/b?x=%31&y=2"}`,
			[]string{"http://www.example.com/b?x=1&y=2"}},
		{"prefix", KindPrefix, `{"prefix": "http://www.example.com/img/"}`,
			[]string{"http://www.example.com/img/1.png", "http://www.example.com/img/2.png"}},
		{"surrogate key", KindKey, `{"key": "product-42"}`,
			[]string{"http://www.example.com/img/1.png", "http://other.example.com/img/3.png"}},
		{"all", KindAll, `{"all": true}`, []string{
			"http://www.example.com/a.css|gzip", "http://www.example.com/a.css|br", "http://www.example.com/b?x=1&y=2",
			"http://www.example.com/img/1.png", "http://www.example.com/img/2.png", "http://other.example.com/img/3.png",
		}},
	}
	for _, tt := range tests {
		for _, soft := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " (hard)", true: " (soft)"}[soft]
			t.Run(name, func(t *testing.T) {
				f := newAdminFixture(t, conf.Purge{Token: testToken})
				body := tt.body
				if soft {
					body = strings.TrimSuffix(body, "}") + `, "soft": true}`
				}
				status, data := f.post(t, body, "Bearer "+testToken)
				if status != 200 {
					t.Fatalf("status %d: %s", status, data)
				}
				var resp Response
				if err := json.Unmarshal(data, &resp); err != nil {
					t.Fatalf("answer %s: %v", data, err)
				}
				if resp.Purged != len(tt.wantPurged) || len(resp.Acked) != 1 || resp.Acked[0] != "edge-1" || resp.Missing == nil || len(resp.Missing) != 0 {
					t.Errorf("answer %s; want purged %d, acked [edge-1], missing []", data, len(tt.wantPurged))
				}
				hit := map[string]bool{}
				for _, k := range tt.wantPurged {
					hit[k] = true
				}
				for _, o := range f.objs {
					got, ok := f.store.Get(o.Key)
					switch {
					case !hit[o.Key] && (!ok || got.SoftPurged()):
						t.Errorf("%s was purged but does not match", o.Key)
					case hit[o.Key] && !soft && ok:
						t.Errorf("%s still stored after a hard purge", o.Key)
					case hit[o.Key] && soft && (!ok || !got.SoftPurged()):
						t.Errorf("%s after a soft purge: present %v; want present and marked", o.Key, ok)
					}
				}
				kind := string(tt.kind)
				if got := counterValue(t, f.svc.metrics.requests.WithLabelValues(kind, sourceAPI)); got != 1 {
					t.Errorf("requests{kind=%s,source=api} = %v, want 1", kind, got)
				}
				if got := counterValue(t, f.svc.metrics.objects.WithLabelValues(kind)); got != float64(len(tt.wantPurged)) {
					t.Errorf("objects{kind=%s} = %v, want %d", kind, got, len(tt.wantPurged))
				}
			})
		}
	}
}

func TestAdminHandler_badInputPurgesNothing(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantStatus               int
	}{
		{"malformed JSON", "POST", "/purge", `{"url": `, 400},
		{"unknown field", "POST", "/purge", `{"url": "http://h/a", "ttl": 3}`, 400},
		{"unknown kind", "POST", "/purge", `{"ban": "obj.status == 200"}`, 400},
		{"two kinds", "POST", "/purge", `{"url": "http://h/a", "prefix": "http://h/"}`, 400},
		{"no kind", "POST", "/purge", `{}`, 400},
		{"empty key", "POST", "/purge", `{"key": ""}`, 400},
		{"url without scheme", "POST", "/purge", `{"url": "www.example.com/a.css"}`, 400},
		{"url without host", "POST", "/purge", `{"url": "http:///a.css"}`, 400},
		{"prefix without scheme", "POST", "/purge", `{"prefix": "/img/"}`, 400},
		{"prefix without host", "POST", "/purge", `{"prefix": "https://"}`, 400},
		{"empty prefix", "POST", "/purge", `{"prefix": ""}`, 400},
		{"body too large", "POST", "/purge", `{"key": "` + strings.Repeat("k", maxBodyBytes) + `"}`, 413},
		{"GET", "GET", "/purge", ``, 405},
		{"other path", "POST", "/purge/all", `{"all": true}`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAdminFixture(t, conf.Purge{Token: testToken})
			req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			res, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var e errorBody
			if res.StatusCode != tt.wantStatus || json.Unmarshal(data, &e) != nil || e.Error == "" {
				t.Errorf("status %d body %s; want %d with an error message", res.StatusCode, data, tt.wantStatus)
			}
			f.untouched(t)
		})
	}
}

func TestNew_metricsRegisterOnceAndClose(t *testing.T) {
	reg := prometheus.NewRegistry()
	store := newTestMemory(t)
	s, err := New(conf.Purge{}, store, StaticCluster{Name: "a"}, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(conf.Purge{}, store, StaticCluster{Name: "a"}, Options{Registerer: reg}); err == nil {
		t.Fatal("a second Service on one registry registered its metrics twice")
	}
	s.metrics.refused.WithLabelValues(reasonToken).Inc()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range families {
		found = found || mf.GetName() == "shoal_purge_refused_total"
	}
	if !found {
		t.Error("shoal_purge_refused_total not gathered")
	}
	s.Close()
	if _, err := New(conf.Purge{}, store, StaticCluster{Name: "a"}, Options{Registerer: reg}); err != nil {
		t.Errorf("New after Close: %v", err)
	}
}

func TestNew_refusesBadInput(t *testing.T) {
	store := newTestMemory(t)
	if _, err := New(conf.Purge{}, nil, StaticCluster{}, Options{}); err == nil {
		t.Error("New with a nil store succeeded")
	}
	if _, err := New(conf.Purge{}, store, nil, Options{}); err == nil {
		t.Error("New with a nil cluster succeeded")
	}
	if _, err := New(conf.Purge{Allow: []string{"10.0.0.0"}}, store, StaticCluster{}, Options{}); err == nil {
		t.Error("New with an allow entry that is no CIDR succeeded")
	}
}
