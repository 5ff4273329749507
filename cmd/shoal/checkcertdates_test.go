package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for www.example.com valid from notBefore to
// notAfter, and its key, as name.crt and name.key in dir.
func writeCert(t *testing.T, dir, name string, notBefore, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "www.example.com"},
		DNSNames: []string{"www.example.com"}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// TestRun_checkRefusesCertificatesOutOfDate: `shoal check` said ok to an expired
// certificate, and to one not valid yet, which every client then refuses at the handshake
// (nginx -t says nothing either; the operator learns it from the clients). Each is an error
// naming tls.certificates[i].cert and its line, with the date; a current one is still ok.
func TestRun_checkRefusesCertificatesOutOfDate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	writeCert(t, dir, "expired", now.Add(-48*time.Hour), now.Add(-time.Hour))
	writeCert(t, dir, "future", now.Add(24*time.Hour), now.Add(48*time.Hour))
	writeCert(t, dir, "good", now.Add(-time.Hour), now.Add(24*time.Hour))
	const head = "listen: {https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nroutes: [{origin: a}]\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\ntls:\n  certificates:\n"
	for _, tc := range []struct{ certs, want, what string }{
		{"    - {cert: expired.crt, key: expired.key}\n", ":6: tls.certificates[0].cert: ", "expired.crt expired on "},
		{"    - {cert: good.crt, key: good.key}\n    - {cert: future.crt, key: future.key}\n", ":7: tls.certificates[1].cert: ", "future.crt is not valid before "},
	} {
		file := filepath.Join(dir, "shoal.yaml")
		os.WriteFile(file, []byte(head+tc.certs), 0o644)
		var stdout, stderr bytes.Buffer
		if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), file+tc.want) || !strings.Contains(stderr.String(), tc.what) {
			t.Errorf("%q: check exited %d and said %q; want 1 and %q ... %q", tc.certs, code, stderr.String(), file+tc.want, tc.what)
		}
	}
	file := filepath.Join(dir, "good.yaml")
	os.WriteFile(file, []byte(head+"    - {cert: good.crt, key: good.key}\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 0 {
		t.Errorf("a current certificate: check exited %d: %q", code, stderr.String())
	}
}
