// Package tlscert holds the node's TLS certificates and picks one per connection by SNI. It
// promises that a connection always sees one complete certificate set: Reload builds the new
// set aside and swaps it in atomically, so handshakes in flight keep the set they started with,
// new handshakes get the new one, and a failed reload leaves the old set serving.
//
// Concurrency: every method is safe for concurrent use; GetCertificate takes no lock.
package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/shoal-cdn/shoal/conf"
)

// Store is the current certificate set. The zero value is not usable; build one with Load.
type Store struct {
	set atomic.Pointer[certSet]
}

// certSet is immutable once built: readers hold a pointer to it without locking.
type certSet struct {
	exact    map[string][]*tls.Certificate // lower-case DNS name from the SANs
	wildcard map[string][]*tls.Certificate // "*.example.com" stored as "example.com"
	first    *tls.Certificate              // served when nothing matches or there is no SNI
}

// ErrNoCertificates is returned by Load and Reload for an empty list.
var ErrNoCertificates = errors.New("tlscert: no certificates configured")

// Load reads every certificate chain and key and returns a Store serving them. The first
// certificate is the default for clients that send no SNI or a name no certificate covers.
// Errors name the files involved.
func Load(certs []conf.Certificate) (*Store, error) {
	set, err := build(certs)
	if err != nil {
		return nil, err
	}
	s := &Store{}
	s.set.Store(set)
	return s, nil
}

// Reload replaces the set with certs. New handshakes see the new set; on any error the old
// set stays in place, whole, and the error says which file was wrong.
func (s *Store) Reload(certs []conf.Certificate) error {
	set, err := build(certs)
	if err != nil {
		return err
	}
	s.set.Store(set)
	return nil
}

// GetCertificate is tls.Config.GetCertificate: an exact SAN match on the SNI name first, then
// a wildcard SAN covering it (one label only, as RFC 6125 section 6.4.3 allows), then the
// first certificate. Among several certificates for one name (say RSA and ECDSA) it prefers
// the first one the client supports. It never returns an error, so a client with an unknown
// name gets the default certificate and a verification error of its own, the usual behaviour
// of web servers.
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := s.set.Load()
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name == "" {
		return set.first, nil
	}
	if c := pick(hello, set.exact[name]); c != nil {
		return c, nil
	}
	if _, parent, ok := strings.Cut(name, "."); ok && parent != "" {
		if c := pick(hello, set.wildcard[parent]); c != nil {
			return c, nil
		}
	}
	return set.first, nil
}

// Covers reports whether the certificate served to a client that sent serverName as its SNI
// covers host (a DNS name or an IP address, without port): the question RFC 9110 section
// 7.4 asks before a request for host is answered on that connection. Among several
// certificates for serverName (RSA and ECDSA, say) it is enough that one covers host. A
// serverName no certificate names was served the first certificate, so that one is asked.
func (s *Store) Covers(serverName, host string) bool {
	set := s.set.Load()
	name := strings.TrimSuffix(strings.ToLower(serverName), ".")
	candidates := set.exact[name]
	if len(candidates) == 0 {
		if _, parent, ok := strings.Cut(name, "."); ok && parent != "" {
			candidates = set.wildcard[parent]
		}
	}
	if len(candidates) == 0 {
		candidates = []*tls.Certificate{set.first}
	}
	for _, c := range candidates {
		if c.Leaf != nil && c.Leaf.VerifyHostname(host) == nil {
			return true
		}
	}
	return false
}

func pick(hello *tls.ClientHelloInfo, candidates []*tls.Certificate) *tls.Certificate {
	if len(candidates) == 0 {
		return nil
	}
	for _, c := range candidates[:len(candidates)-1] {
		if hello.SupportsCertificate(c) == nil {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

// TLSConfig returns a new server configuration using the Store: TLS 1.2 and 1.3 only,
// certificates chosen per handshake by GetCertificate, so Reload needs no new listener.
//
// NextProtos offers h2 before http/1.1. A listener that cannot speak HTTP/2 (fasthttp) must
// remove "h2" from the returned config, or clients that negotiate it will fail.
func (s *Store) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		MaxVersion:     tls.VersionTLS13,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: s.GetCertificate,
	}
}

// Names lists the DNS names the current set covers, wildcards as "*.suffix", for the stats
// page and logs. The order is unspecified.
func (s *Store) Names() []string {
	set := s.set.Load()
	names := make([]string, 0, len(set.exact)+len(set.wildcard))
	for n := range set.exact {
		names = append(names, n)
	}
	for n := range set.wildcard {
		names = append(names, "*."+n)
	}
	return names
}

func build(certs []conf.Certificate) (*certSet, error) {
	if len(certs) == 0 {
		return nil, ErrNoCertificates
	}
	set := &certSet{exact: map[string][]*tls.Certificate{}, wildcard: map[string][]*tls.Certificate{}}
	for i, c := range certs {
		cert, err := loadPair(c)
		if err != nil {
			return nil, fmt.Errorf("tlscert: %w", conf.At(fmt.Sprintf("tls.certificates[%d]", i), err))
		}
		if set.first == nil {
			set.first = cert
		}
		for _, name := range cert.Leaf.DNSNames {
			name = strings.TrimSuffix(strings.ToLower(name), ".")
			if suffix, ok := strings.CutPrefix(name, "*."); ok {
				set.wildcard[suffix] = append(set.wildcard[suffix], cert)
			} else {
				set.exact[name] = append(set.exact[name], cert)
			}
		}
	}
	return set, nil
}

func loadPair(c conf.Certificate) (*tls.Certificate, error) {
	certPEM, err := conf.ReadFile(c.Cert, conf.MaxCertBytes, "a certificate file")
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	keyPEM, err := conf.ReadFile(c.Key, conf.MaxCertBytes, "a key file")
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s with key %s: %w", c.Cert, c.Key, err)
	}
	if pair.Leaf == nil {
		// GODEBUG=x509keypairleaf=0 leaves Leaf unset; selection needs the SANs.
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Cert, err)
		}
	}
	return &pair, nil
}
