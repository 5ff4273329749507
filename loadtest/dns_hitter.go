package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/miekg/dns"
)

// DNSConfig describes the query DNSHitter repeats.
type DNSConfig struct {
	// Addr is the server, host:port.
	Addr string
	// Name is the name queried; it is made fully qualified if it is not.
	Name string
	// Type is the query type; zero means A.
	Type uint16
	// Net is "udp" or "tcp"; empty means udp.
	Net string
	// Timeout bounds one exchange; zero means 5s.
	Timeout time.Duration
}

// DNSHitter sends DNS queries and records them as Results so one report covers HTTP and DNS.
// Rcodes map onto the HTTP code with the same meaning, which keeps vegeta's success rule
// (200..399) right: NOERROR with answers 200, NOERROR without answers (NODATA) 204,
// FORMERR 400, REFUSED 403, NXDOMAIN 404, SERVFAIL 500, NOTIMP 501, any other rcode 500.
// No answer at all (timeout, network error) is code 0 with the error, as for HTTP.
// Method is "DNS" and URL is "dns://<addr>/<name>?type=<type>". Safe for concurrent use.
type DNSHitter struct {
	cfg    DNSConfig
	client *dns.Client
	url    string
}

// NewDNSHitter returns a hitter for cfg.
func NewDNSHitter(cfg DNSConfig) (*DNSHitter, error) {
	if cfg.Addr == "" || cfg.Name == "" {
		return nil, fmt.Errorf("loadtest: dns: server address and name are required")
	}
	if cfg.Type == 0 {
		cfg.Type = dns.TypeA
	}
	if cfg.Net == "" {
		cfg.Net = "udp"
	}
	if cfg.Net != "udp" && cfg.Net != "tcp" {
		return nil, fmt.Errorf("loadtest: dns: network %q: want udp or tcp", cfg.Net)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	cfg.Name = dns.Fqdn(cfg.Name)
	typ := dns.TypeToString[cfg.Type]
	if typ == "" {
		return nil, fmt.Errorf("loadtest: dns: unknown query type %d", cfg.Type)
	}
	return &DNSHitter{
		cfg:    cfg,
		client: &dns.Client{Net: cfg.Net, Timeout: cfg.Timeout},
		url:    "dns://" + cfg.Addr + "/" + cfg.Name + "?type=" + typ,
	}, nil
}

// Hit implements Hitter.
func (h *DNSHitter) Hit(ctx context.Context, _ uint64, res *Result) {
	res.Method, res.URL = "DNS", h.url
	q := new(dns.Msg)
	q.SetQuestion(h.cfg.Name, h.cfg.Type)
	res.BytesOut = uint64(q.Len())

	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	r, _, err := h.client.ExchangeContext(ctx, q, h.cfg.Addr)
	if err != nil {
		res.Error = "dns: " + err.Error()
		return
	}
	res.BytesIn = uint64(r.Len())
	res.Code = dnsCode(r)
	if r.Rcode != dns.RcodeSuccess {
		res.Error = "dns: " + dns.RcodeToString[r.Rcode]
	}
}

func dnsCode(r *dns.Msg) uint16 {
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
