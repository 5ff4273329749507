package loadtest

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startDNS serves www.example.test. A 192.0.2.1 on 127.0.0.1, NODATA for its other types,
// REFUSED for fail.test. and NXDOMAIN for everything else.
func startDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		question := q.Question[0]
		switch {
		case question.Name == "www.example.test." && question.Qtype == dns.TypeA:
			rr, _ := dns.NewRR("www.example.test. 20 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		case question.Name == "www.example.test.":
		case question.Name == "fail.test.":
			m.Rcode = dns.RcodeRefused
		default:
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestDNSHitter_MapsRcodes(t *testing.T) {
	addr := startDNS(t)
	tests := []struct {
		name     string
		typ      uint16
		wantCode uint16
		wantErr  string
	}{
		{"www.example.test", dns.TypeA, 200, ""},
		{"www.example.test", dns.TypeAAAA, 204, ""},
		{"nope.example.test", dns.TypeA, 404, "dns: NXDOMAIN"},
		{"fail.test", dns.TypeA, 403, "dns: REFUSED"},
	}
	for _, tt := range tests {
		h, err := NewDNSHitter(DNSConfig{Addr: addr, Name: tt.name, Type: tt.typ, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var r Result
		h.Hit(context.Background(), 0, &r)
		if r.Code != tt.wantCode || r.Error != tt.wantErr {
			t.Errorf("%s %s: code %d err %q, want %d %q", tt.name, dns.TypeToString[tt.typ], r.Code, r.Error, tt.wantCode, tt.wantErr)
		}
		if r.Method != "DNS" || !strings.HasPrefix(r.URL, "dns://"+addr+"/"+tt.name+".") || r.BytesOut == 0 || r.BytesIn == 0 {
			t.Errorf("%s: result %+v", tt.name, r)
		}
	}
}

func TestDNSHitter_NoServerIsCodeZero(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close() // bound but never answers
	h, _ := NewDNSHitter(DNSConfig{Addr: pc.LocalAddr().String(), Name: "x.test", Timeout: 100 * time.Millisecond})
	var r Result
	h.Hit(context.Background(), 0, &r)
	if r.Code != 0 || !strings.HasPrefix(r.Error, "dns: ") {
		t.Fatalf("result %+v", r)
	}
}

func TestNewDNSHitter_RejectsBadConfig(t *testing.T) {
	for _, cfg := range []DNSConfig{{Name: "a"}, {Addr: "127.0.0.1:53"}, {Addr: "x:53", Name: "a", Net: "sctp"}, {Addr: "x:53", Name: "a", Type: 65000}} {
		if _, err := NewDNSHitter(cfg); err == nil {
			t.Errorf("NewDNSHitter(%+v) succeeded", cfg)
		}
	}
}

func TestCommand_DNSScenario(t *testing.T) {
	addr := startDNS(t)
	var stdout, stderr bytes.Buffer
	err := runCommand(context.Background(), []string{"attack", "-scenario", "dns", "-dns", addr, "-dns-name", "www.example.test",
		"-rate", "50", "-duration", "100ms", "-quiet"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("attack: %v\n%s", err, stderr.String())
	}
	got := decodeAll(t, &stdout)
	if len(got) != 5 {
		t.Fatalf("%d results, want 5", len(got))
	}
	for _, r := range got {
		if r.Code != 200 || r.Method != "DNS" {
			t.Fatalf("result %+v", r)
		}
	}
}
