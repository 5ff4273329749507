package loadtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestRcodeStatus(t *testing.T) {
	a, _ := dns.NewRR("www.cdn.example.com. 20 IN A 192.0.2.11")
	tests := []struct {
		rcode   int
		answers []dns.RR
		want    int
	}{
		{dns.RcodeSuccess, []dns.RR{a}, http.StatusOK},
		{dns.RcodeSuccess, nil, http.StatusNoContent},
		{dns.RcodeFormatError, nil, http.StatusBadRequest},
		{dns.RcodeRefused, nil, http.StatusForbidden},
		{dns.RcodeNameError, nil, http.StatusNotFound},
		{dns.RcodeNotImplemented, nil, http.StatusNotImplemented},
		{dns.RcodeServerFailure, nil, http.StatusInternalServerError},
		{dns.RcodeNotAuth, nil, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		if got := rcodeStatus(&dns.Msg{MsgHdr: dns.MsgHdr{Rcode: tt.rcode}, Answer: tt.answers}); got != tt.want {
			t.Errorf("%s with %d answers: %d, want %d", dns.RcodeToString[tt.rcode], len(tt.answers), got, tt.want)
		}
	}
}

func TestDNSTargeter_BadInput(t *testing.T) {
	for _, tt := range []struct {
		server, name string
		qtype        uint16
	}{{"", "a.", dns.TypeA}, {"127.0.0.1:53", "", dns.TypeA}, {"127.0.0.1:53", "a.", 65000}} {
		if _, err := DNSTargeter(tt.server, tt.name, tt.qtype); err == nil || !strings.Contains(err.Error(), "dns") {
			t.Errorf("DNSTargeter(%q, %q, %d): %v", tt.server, tt.name, tt.qtype, err)
		}
	}
}

// TestDNSTransport_RefusesWhatIsNotAQuery: a body that is not a DNS message is an error
// before anything is sent, not a panic or a query for garbage.
func TestDNSTransport_RefusesWhatIsNotAQuery(t *testing.T) {
	for _, body := range []string{"", "GET / HTTP/1.1", "\x00\x01"} {
		req, _ := http.NewRequest(DNSMethod, "dns://127.0.0.1:1/a.?type=A", strings.NewReader(body))
		if resp, err := (&DNSTransport{}).RoundTrip(req); err == nil || !strings.Contains(err.Error(), "bad query") {
			t.Errorf("body %q: response %v, error %v", body, resp, err)
		}
	}
	req, _ := http.NewRequest(DNSMethod, "dns://127.0.0.1:1/a.?type=A", nil)
	if _, err := (&DNSTransport{}).RoundTrip(req); err == nil {
		t.Error("a request without a query was sent")
	}
}
