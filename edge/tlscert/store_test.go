package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

var serials atomic.Int64

// writeCert creates a self-signed certificate for names in dir and returns its files. Each
// call gets a new serial number, which is how the tests tell certificates apart.
func writeCert(t *testing.T, dir string, names ...string) (conf.Certificate, int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial := serials.Add(1)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, strings.ReplaceAll(names[0], "*", "star")+"-"+big.NewInt(serial).String())
	c := conf.Certificate{Cert: base + ".crt", Key: base + ".key"}
	writeFile(t, c.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, c.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return c, serial
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serve runs a TLS listener on 127.0.0.1:0 that completes handshakes and hangs up.
func serve(t *testing.T, s *Store) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// dial handshakes as a client sending sni and returns the serial of the certificate served.
// Verification is off because the point is which certificate the server picks, not trust.
func dial(t *testing.T, addr, sni string, maxVersion uint16) (int64, *tls.ConnectionState, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{
		ServerName: sni, InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: maxVersion,
		NextProtos: []string{"h2", "http/1.1"},
	})
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return st.PeerCertificates[0].SerialNumber.Int64(), &st, nil
}

func TestStore_selectsByServerName(t *testing.T) {
	dir := t.TempDir()
	a, serialA := writeCert(t, dir, "a.example.com")
	b, serialB := writeCert(t, dir, "b.example.com", "B-alias.example.com")
	w, serialW := writeCert(t, dir, "*.wild.example.com")
	s, err := Load([]conf.Certificate{a, b, w})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	tests := []struct {
		sni  string
		want int64
	}{
		{"a.example.com", serialA},
		{"b.example.com", serialB},
		{"b-alias.example.com", serialB},
		{"B.EXAMPLE.COM", serialB},
		{"x.wild.example.com", serialW},
		{"wild.example.com", serialA},     // a wildcard does not cover its own parent
		{"y.x.wild.example.com", serialA}, // nor two labels
		{"unknown.example.org", serialA},  // default: the first certificate
		{"", serialA},                     // no SNI
	}
	for _, tt := range tests {
		t.Run(tt.sni, func(t *testing.T) {
			got, st, err := dial(t, addr, tt.sni, tls.VersionTLS13)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SNI %q served serial %d, want %d", tt.sni, got, tt.want)
			}
			if st.NegotiatedProtocol != "h2" {
				t.Errorf("ALPN = %q, want h2", st.NegotiatedProtocol)
			}
		})
	}
}

func TestStore_reloadServesNewCertificateToNewConnections(t *testing.T) {
	dir := t.TempDir()
	old, oldSerial := writeCert(t, dir, "www.example.com")
	s, err := Load([]conf.Certificate{old})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	if got, _, err := dial(t, addr, "www.example.com", tls.VersionTLS13); err != nil || got != oldSerial {
		t.Fatalf("before reload: serial %d, %v; want %d", got, err, oldSerial)
	}
	renewed, newSerial := writeCert(t, dir, "www.example.com")
	if err := s.Reload([]conf.Certificate{renewed}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := dial(t, addr, "www.example.com", tls.VersionTLS13); err != nil || got != newSerial {
		t.Fatalf("after reload: serial %d, %v; want %d", got, err, newSerial)
	}
}

func TestStore_failedReloadKeepsTheOldSet(t *testing.T) {
	dir := t.TempDir()
	good, goodSerial := writeCert(t, dir, "www.example.com")
	other, _ := writeCert(t, dir, "other.example.com")
	garbage := filepath.Join(dir, "garbage.pem")
	writeFile(t, garbage, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
	s, err := Load([]conf.Certificate{good})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	missing := filepath.Join(dir, "missing.crt")
	tests := []struct {
		name     string
		certs    []conf.Certificate
		wantText string
	}{
		{"missing cert file", []conf.Certificate{{Cert: missing, Key: good.Key}}, missing},
		{"missing key file", []conf.Certificate{{Cert: good.Cert, Key: missing}}, missing},
		{"key of another certificate", []conf.Certificate{{Cert: good.Cert, Key: other.Key}}, good.Cert},
		{"not PEM", []conf.Certificate{{Cert: garbage, Key: good.Key}}, garbage},
		{"second of two broken", []conf.Certificate{other, {Cert: missing, Key: missing}}, "tls.certificates[1]"},
		{"empty list", nil, "no certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Reload(tt.certs)
			if err == nil {
				t.Fatal("Reload succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			if got, _, err := dial(t, addr, "www.example.com", tls.VersionTLS13); err != nil || got != goodSerial {
				t.Errorf("after failed reload: serial %d, %v; want the old %d", got, err, goodSerial)
			}
		})
	}
	if _, err := Load(nil); !errors.Is(err, ErrNoCertificates) {
		t.Errorf("Load(nil) = %v, want ErrNoCertificates", err)
	}
}

func TestStore_refusesOldProtocolVersions(t *testing.T) {
	dir := t.TempDir()
	c, _ := writeCert(t, dir, "www.example.com")
	s, err := Load([]conf.Certificate{c})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s)
	tests := []struct {
		name       string
		maxVersion uint16
		wantOK     bool
	}{
		{"TLS 1.0", tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, st, err := dial(t, addr, "www.example.com", tt.maxVersion)
			if tt.wantOK {
				if err != nil || st.Version != tt.maxVersion {
					t.Fatalf("handshake: %v (version %x), want success at %x", err, versionOf(st), tt.maxVersion)
				}
				return
			}
			if err == nil {
				t.Fatalf("handshake at %s succeeded (version %x), want refusal", tt.name, versionOf(st))
			}
			if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("error %q, want a protocol version refusal", err)
			}
		})
	}
}

func versionOf(st *tls.ConnectionState) uint16 {
	if st == nil {
		return 0
	}
	return st.Version
}

func TestStore_namesListsExactAndWildcard(t *testing.T) {
	dir := t.TempDir()
	a, _ := writeCert(t, dir, "a.example.com", "*.example.net")
	s, err := Load([]conf.Certificate{a})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(s.Names(), ",")
	if !strings.Contains(got, "a.example.com") || !strings.Contains(got, "*.example.net") {
		t.Errorf("Names() = %q", got)
	}
	cfg := s.TLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 || cfg.MaxVersion != tls.VersionTLS13 || cfg.GetCertificate == nil {
		t.Errorf("TLSConfig = %+v", cfg)
	}
}

// TestStore_coversWhatTheSNIsCertificateNames: Covers asks the certificate GetCertificate
// serves for the SNI name (exact, wildcard, else the first) about another host.
func TestStore_coversWhatTheSNIsCertificateNames(t *testing.T) {
	dir := t.TempDir()
	site, _ := writeCert(t, dir, "www.example.com", "*.img.example.com")
	other, _ := writeCert(t, dir, "other.org")
	s, err := Load([]conf.Certificate{site, other})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sni, host string
		want      bool
	}{
		{"www.example.com", "a.img.example.com", true},
		{"www.example.com", "other.org", false},
		{"a.img.example.com", "www.example.com", true},
		{"other.org", "www.example.com", false},
		{"OTHER.ORG.", "other.org", true},
		{"unknown.test", "www.example.com", true}, // served the first certificate
		{"unknown.test", "other.org", false},
	} {
		if got := s.Covers(tc.sni, tc.host); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.sni, tc.host, got, tc.want)
		}
	}
}
