package loadtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/miekg/dns"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// DNS load goes through vegeta's Attacker like HTTP load, so it gets the same pacing,
// results and reports: the target is a "DNS dns://<server>/<name>?type=<type>" request whose
// body is the query in wire format (as in DoH, RFC 8484), and DNSTransport, the attacker's
// http.RoundTripper, sends it to the server and answers with the reply as the body (so
// bytes in and out are the DNS message sizes) and the rcode as the HTTP status with the same
// meaning, which keeps vegeta's success rule (200..399) right:
//
//	NOERROR with answers 200, NOERROR without (NODATA) 204, FORMERR 400, REFUSED 403,
//	NXDOMAIN 404, NOTIMP 501, SERVFAIL and any other rcode 500
//
// The status text is the rcode ("404 NXDOMAIN"), which is what vegeta records as the error
// of a failed result. No reply at all (timeout, network error) is code 0 with the error.

// DNSMethod is the method of DNS targets and results.
const DNSMethod = "DNS"

// DNSTargeter asks server (host:port) for name (made fully qualified) and type qtype, every
// time. Safe for concurrent use.
func DNSTargeter(server, name string, qtype uint16) (vegeta.Targeter, error) {
	typ, ok := dns.TypeToString[qtype]
	if server == "" || name == "" || !ok {
		return nil, fmt.Errorf("loadtest: dns: want a server, a name and a known type, got %q %q %d", server, name, qtype)
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	wire, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("loadtest: dns: %w", err)
	}
	url := "dns://" + server + "/" + dns.Fqdn(name) + "?type=" + typ
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		t.Method, t.URL, t.Body, t.Header = DNSMethod, url, wire, nil
		return nil
	}, nil
}

// DNSTransport is an http.RoundTripper for DNSTargeter's requests. Safe for concurrent use.
type DNSTransport struct {
	// Net is "udp" or "tcp"; empty means udp.
	Net string
	// Timeout bounds one exchange; zero means 5s. The request's context can end it sooner.
	Timeout time.Duration
}

// RoundTrip implements http.RoundTripper. Each query gets a fresh message ID.
func (d *DNSTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		return nil, fmt.Errorf("dns: request for %s has no query", req.URL)
	}
	wire, err := io.ReadAll(io.LimitReader(req.Body, dns.MaxMsgSize))
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("dns: reading the query: %w", err)
	}
	q := new(dns.Msg)
	if err := q.Unpack(wire); err != nil {
		return nil, fmt.Errorf("dns: bad query: %w", err)
	}
	q.Id = dns.Id()
	network := d.Net
	if network == "" {
		network = "udp"
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	c := &dns.Client{Net: network, Timeout: timeout}
	r, _, err := c.ExchangeContext(req.Context(), q, req.URL.Host)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	reply, err := r.Pack()
	if err != nil {
		return nil, fmt.Errorf("dns: reply: %w", err)
	}
	code := rcodeStatus(r)
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + dns.RcodeToString[r.Rcode],
		StatusCode:    code,
		Proto:         "DNS",
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(reply)),
		ContentLength: int64(len(reply)),
		Request:       req,
	}, nil
}

func rcodeStatus(r *dns.Msg) int {
	switch r.Rcode {
	case dns.RcodeSuccess:
		if len(r.Answer) == 0 {
			return http.StatusNoContent
		}
		return http.StatusOK
	case dns.RcodeFormatError:
		return http.StatusBadRequest
	case dns.RcodeRefused:
		return http.StatusForbidden
	case dns.RcodeNameError:
		return http.StatusNotFound
	case dns.RcodeNotImplemented:
		return http.StatusNotImplemented
	default:
		return http.StatusInternalServerError
	}
}
