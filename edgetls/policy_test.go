package edgetls

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// policySites is one distribution per security policy, plus some with other
// HTTP versions; each is reached by the SNI name "<policy>.test".
func policySites() []Distribution {
	var ds []Distribution
	for _, p := range []string{"SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"} {
		ds = append(ds, Distribution{ID: "E" + p, Names: []string{p + ".test"}, MinimumProtocolVersion: p, HTTPVersion: "http2"})
	}
	return append(ds,
		Distribution{ID: "EH1", Names: []string{"h1.test"}, MinimumProtocolVersion: "TLSv1.2_2021", HTTPVersion: "http1.1"},
		Distribution{ID: "EH3", Names: []string{"h3.test"}, MinimumProtocolVersion: "TLSv1.2_2021", HTTPVersion: "http3"},
		Distribution{ID: "EH23", Names: []string{"h23.test", "*.wild.test"}, HTTPVersion: "http2and3"},
		Distribution{ID: "EDEF", Names: []string{"default.test"}}, // no policy: TLSv1, HTTP/2
	)
}

// policyCase is one client against one SNI name.
type policyCase struct {
	name      string
	sni       string
	min, max  uint16   // client's versions
	suites    []uint16 // client's TLS 1.0–1.2 suites; nil: crypto/tls's defaults
	ok        bool
	wantALPN  string // when ok; the client offers h2 and http/1.1
	wantSuite uint16 // when ok and non-zero
}

func runPolicyCases(t *testing.T, addr string, cases []policyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			min := tc.min
			if min == 0 {
				min = v10 // the client offers every version up to max
			}
			st, err := handshake(t, addr, &tls.Config{
				InsecureSkipVerify: true,
				ServerName:         tc.sni,
				MinVersion:         min,
				MaxVersion:         tc.max,
				CipherSuites:       tc.suites,
				NextProtos:         []string{"h2", "http/1.1"},
			})
			if !tc.ok {
				if err == nil {
					t.Fatalf("handshake with %s succeeded (version %x, suite %s), want it refused",
						tc.sni, st.Version, tls.CipherSuiteName(st.CipherSuite))
				}
				// The server refused: a protocol_version or
				// handshake_failure alert, not a client-side error.
				if !strings.Contains(err.Error(), "remote error") {
					t.Fatalf("handshake error %q, want the server's alert", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake with %s: %v", tc.sni, err)
			}
			if st.NegotiatedProtocol != tc.wantALPN {
				t.Errorf("ALPN = %q, want %q", st.NegotiatedProtocol, tc.wantALPN)
			}
			if tc.wantSuite != 0 && st.CipherSuite != tc.wantSuite {
				t.Errorf("suite = %s, want %s", tls.CipherSuiteName(st.CipherSuite), tls.CipherSuiteName(tc.wantSuite))
			}
		})
	}
}

const (
	v10 = tls.VersionTLS10
	v11 = tls.VersionTLS11
	v12 = tls.VersionTLS12
	v13 = tls.VersionTLS13
)

func suites(s ...uint16) []uint16 { return s }

// TestPoliciesECDSA runs clients offering one version or one suite against
// every policy, with the self-signed (ECDSA) certificate.
func TestPoliciesECDSA(t *testing.T) {
	p, err := New(config.TLS{}, nil, WithDistributions(policySites()...))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, p)
	const (
		cbc128    = tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
		cbc128256 = tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
		gcm128    = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		chacha    = tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	)
	runPolicyCases(t, addr, []policyCase{
		// Protocol versions.
		{name: "TLS 1.1 refused by TLSv1.2_2021", sni: "TLSv1.2_2021.test", max: v11},
		{name: "TLS 1.1 refused by TLSv1.2_2018", sni: "TLSv1.2_2018.test", max: v11},
		{name: "TLS 1.1 accepted by TLSv1.1_2016, HTTP/1.1 only", sni: "TLSv1.1_2016.test", min: v11, max: v11, ok: true, wantALPN: "http/1.1"},
		{name: "TLS 1.0 refused by TLSv1.1_2016", sni: "TLSv1.1_2016.test", max: v10},
		{name: "TLS 1.0 accepted by TLSv1", sni: "TLSv1.test", min: v10, max: v10, ok: true, wantALPN: "http/1.1"},
		{name: "TLS 1.0 accepted by TLSv1_2016", sni: "TLSv1_2016.test", min: v10, max: v10, ok: true, wantALPN: "http/1.1"},
		{name: "TLS 1.0 accepted by SSLv3 (SSLv3 itself is not in crypto/tls)", sni: "SSLv3.test", min: v10, max: v10, suites: suites(cbc128), ok: true, wantALPN: "http/1.1", wantSuite: cbc128},
		{name: "TLS 1.2 refused by TLSv1.3_2025", sni: "TLSv1.3_2025.test", max: v12},
		{name: "TLS 1.3 accepted by TLSv1.3_2025", sni: "TLSv1.3_2025.test", min: v13, ok: true, wantALPN: "h2"},
		{name: "TLS 1.3 accepted by TLSv1", sni: "TLSv1.test", min: v13, ok: true, wantALPN: "h2"},
		{name: "no policy means TLSv1", sni: "default.test", min: v10, max: v10, ok: true, wantALPN: "http/1.1"},

		// TLS 1.2 cipher suites.
		{name: "CBC-SHA256 refused by TLSv1.2_2021", sni: "TLSv1.2_2021.test", max: v12, suites: suites(cbc128256)},
		{name: "CBC-SHA256 accepted by TLSv1.2_2019, no HTTP/2", sni: "TLSv1.2_2019.test", max: v12, suites: suites(cbc128256), ok: true, wantALPN: "http/1.1", wantSuite: cbc128256},
		{name: "CBC-SHA refused by TLSv1.2_2018", sni: "TLSv1.2_2018.test", max: v12, suites: suites(cbc128)},
		{name: "CBC-SHA accepted by TLSv1.1_2016", sni: "TLSv1.1_2016.test", max: v12, suites: suites(cbc128), ok: true, wantALPN: "http/1.1", wantSuite: cbc128},
		{name: "ChaCha20 refused by TLSv1.2_2025", sni: "TLSv1.2_2025.test", max: v12, suites: suites(chacha)},
		{name: "ChaCha20 accepted by TLSv1.2_2021 with HTTP/2", sni: "TLSv1.2_2021.test", max: v12, suites: suites(chacha), ok: true, wantALPN: "h2", wantSuite: chacha},
		{name: "AES-GCM accepted by TLSv1.2_2025", sni: "TLSv1.2_2025.test", max: v12, suites: suites(gcm128), ok: true, wantALPN: "h2", wantSuite: gcm128},
		{name: "CBC offered beside GCM: GCM and HTTP/2", sni: "TLSv1.2_2019.test", max: v12, suites: suites(cbc128256, gcm128), ok: true, wantALPN: "h2"},

		// HttpVersion.
		{name: "http1.1 offers no h2", sni: "h1.test", ok: true, wantALPN: "http/1.1"},
		{name: "http3 offers no h2 over TCP", sni: "h3.test", ok: true, wantALPN: "http/1.1"},
		{name: "http2and3 offers h2", sni: "h23.test", ok: true, wantALPN: "h2"},
		{name: "wildcard alias", sni: "a.wild.test", min: v10, max: v10, ok: true, wantALPN: "http/1.1"},
		{name: "case and trailing dot", sni: "H1.Test.", ok: true, wantALPN: "http/1.1"},

		// Names of no distribution: the listener's TLS 1.2 and HTTP/2.
		{name: "unknown name: TLS 1.1 refused", sni: "other.test", max: v11},
		{name: "unknown name: TLS 1.2 with h2", sni: "other.test", max: v12, ok: true, wantALPN: "h2"},
		{name: "no SNI: TLS 1.1 refused", sni: "", max: v11},
	})
}

// writeRSAPair writes a self-signed RSA certificate and key to dir.
func writeRSAPair(t *testing.T, dir string) config.CertificateFiles {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rsa"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"rsa.test"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	f := config.CertificateFiles{CertFile: filepath.Join(dir, "rsa.crt"), KeyFile: filepath.Join(dir, "rsa.key")}
	if err := os.WriteFile(f.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPoliciesRSA covers the RSA key exchange and 3DES rows, which need an
// RSA certificate.
func TestPoliciesRSA(t *testing.T) {
	p, err := New(config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{writeRSAPair(t, t.TempDir())}},
		nil, WithDistributions(policySites()...))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, p)
	const (
		rsaGCM   = tls.TLS_RSA_WITH_AES_128_GCM_SHA256
		tdes     = tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA
		ecdheCBC = tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
		rsaCBC   = tls.TLS_RSA_WITH_AES_256_CBC_SHA
	)
	runPolicyCases(t, addr, []policyCase{
		{name: "AES128-GCM-SHA256 accepted by TLSv1.2_2018", sni: "TLSv1.2_2018.test", max: v12, suites: suites(rsaGCM), ok: true, wantALPN: "http/1.1", wantSuite: rsaGCM},
		{name: "AES128-GCM-SHA256 refused by TLSv1.2_2019", sni: "TLSv1.2_2019.test", max: v12, suites: suites(rsaGCM)},
		{name: "DES-CBC3-SHA accepted by TLSv1", sni: "TLSv1.test", max: v10, suites: suites(tdes), ok: true, wantALPN: "http/1.1", wantSuite: tdes},
		{name: "DES-CBC3-SHA refused by TLSv1_2016", sni: "TLSv1_2016.test", max: v10, suites: suites(tdes)},
		{name: "AES256-SHA accepted by TLSv1.1_2016 over TLS 1.1", sni: "TLSv1.1_2016.test", max: v11, suites: suites(rsaCBC), ok: true, wantALPN: "http/1.1", wantSuite: rsaCBC},
		{name: "AES256-SHA refused by TLSv1.2_2018", sni: "TLSv1.2_2018.test", max: v12, suites: suites(rsaCBC)},
		{name: "ECDHE-RSA-AES128-SHA256 accepted by TLSv1.2_2019", sni: "TLSv1.2_2019.test", max: v12, suites: suites(ecdheCBC), ok: true, wantALPN: "http/1.1", wantSuite: ecdheCBC},
		{name: "ECDHE-RSA-AES128-SHA256 refused by TLSv1.2_2021", sni: "TLSv1.2_2021.test", max: v12, suites: suites(ecdheCBC)},
	})
}

func TestLookupPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		min     uint16
		n       int    // number of TLS 1.0–1.2 suites
		has     uint16 // a suite it must allow (0: none)
		hasNot  uint16 // a suite it must not allow (0: none)
		unknown bool
	}{
		{"SSLv3", v10, 18, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, 0, false},
		{"TLSv1", v10, 18, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, 0, false},
		{"TLSv1_2016", v10, 17, tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, false},
		{"TLSv1.1_2016", v11, 17, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, false},
		{"TLSv1.2_2018", v12, 11, tls.TLS_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA, false},
		{"TLSv1.2_2019", v12, 8, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, false},
		{"TLSv1.2_2021", v12, 6, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, false},
		{"TLSv1.2_2025", v12, 4, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, false},
		{"TLSv1.3_2025", v13, 0, 0, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, false},
		{"TLSv1.2_2099", 0, 0, 0, 0, true},
		{"tlsv1", 0, 0, 0, 0, true}, // names are case-sensitive, as in the API
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := LookupPolicy(tc.name)
			if ok == tc.unknown {
				t.Fatalf("LookupPolicy(%q) ok = %v", tc.name, ok)
			}
			if tc.unknown {
				return
			}
			if p.MinVersion != tc.min || len(p.CipherSuites) != tc.n {
				t.Errorf("MinVersion %x, %d suites; want %x, %d", p.MinVersion, len(p.CipherSuites), tc.min, tc.n)
			}
			if tc.has != 0 && !slices.Contains(p.CipherSuites, tc.has) {
				t.Errorf("does not allow %s", tls.CipherSuiteName(tc.has))
			}
			if tc.hasNot != 0 && slices.Contains(p.CipherSuites, tc.hasNot) {
				t.Errorf("allows %s", tls.CipherSuiteName(tc.hasNot))
			}
			// Every suite is one crypto/tls knows, in CloudFront's order:
			// ECDSA before RSA key exchange.
			known := map[uint16]bool{}
			for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
				known[s.ID] = true
			}
			for _, s := range p.CipherSuites {
				if !known[s] {
					t.Errorf("suite %#04x unknown to crypto/tls", s)
				}
			}
		})
	}
}

func TestDistributionOf(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name string
		vc   *config.ViewerCertificate
		want string
	}{
		{"no ViewerCertificate", nil, "TLSv1"},
		{"default certificate ignores the policy", &config.ViewerCertificate{CloudFrontDefaultCertificate: &yes, MinimumProtocolVersion: "TLSv1.2_2021"}, "TLSv1"},
		{"own certificate", &config.ViewerCertificate{ACMCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x", SSLSupportMethod: "sni-only", MinimumProtocolVersion: "TLSv1.2_2021"}, "TLSv1.2_2021"},
		{"default certificate false", &config.ViewerCertificate{CloudFrontDefaultCertificate: &no, MinimumProtocolVersion: "TLSv1.1_2016"}, "TLSv1.1_2016"},
		{"own certificate, no policy", &config.ViewerCertificate{IAMCertificateId: "ASCAEXAMPLE"}, "TLSv1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &config.Distribution{ID: "E1", DomainName: "d1.cloudfront.net", Aliases: []string{"www.example.com"}, HTTPVersion: "http2and3",
				Raw: &config.DistributionConfig{ViewerCertificate: tc.vc}}
			got := DistributionOf(d)
			if got.MinimumProtocolVersion != tc.want || got.HTTPVersion != "http2and3" || !slices.Equal(got.Names, []string{"d1.cloudfront.net", "www.example.com"}) {
				t.Errorf("DistributionOf = %+v, want policy %s", got, tc.want)
			}
		})
	}
}

func TestSetDistributions(t *testing.T) {
	p, err := New(config.TLS{}, nil, WithDistributions(Distribution{ID: "E1", Names: []string{"a.test"}, MinimumProtocolVersion: "TLSv1.2_2021"}))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, p)
	old := &tls.Config{InsecureSkipVerify: true, ServerName: "a.test", MinVersion: v10, MaxVersion: v11}
	if _, err := handshake(t, addr, old); err == nil {
		t.Fatal("TLS 1.1 accepted under TLSv1.2_2021")
	}
	// A reload that names a bad policy is refused and changes nothing.
	for _, bad := range []Distribution{
		{ID: "E2", Names: []string{"a.test"}, MinimumProtocolVersion: "TLSv9"},
		{ID: "E3", Names: []string{"a.test"}, HTTPVersion: "http4"},
	} {
		if err := p.SetDistributions([]Distribution{bad}); err == nil || !strings.HasPrefix(err.Error(), "tls: distribution "+bad.ID+": ") {
			t.Errorf("SetDistributions(%+v) = %v, want an error naming %s", bad, err, bad.ID)
		}
	}
	if _, err := handshake(t, addr, old); err == nil {
		t.Fatal("TLS 1.1 accepted after a refused reload")
	}
	if err := p.SetDistributions([]Distribution{{ID: "E1", Names: []string{"a.test"}, MinimumProtocolVersion: "TLSv1.1_2016", HTTPVersion: "http3"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, addr, old); err != nil {
		t.Fatalf("TLS 1.1 refused after reload to TLSv1.1_2016: %v", err)
	}
	if !p.HTTP3("a.test:8443") || !p.HTTP3("A.TEST") {
		t.Error("HTTP3(a.test) = false after reload to http3")
	}
}

func TestHTTP3AndQUICConfig(t *testing.T) {
	p, err := New(config.TLS{}, nil, WithDistributions(policySites()...))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"h3.test": true, "h23.test:443": true, "x.wild.test": true, "[::1]:8443": false,
		"h1.test": false, "TLSv1.2_2021.test": false, "default.test": false, "other.test": false, "": false,
	} {
		if got := p.HTTP3(host); got != want {
			t.Errorf("HTTP3(%q) = %v, want %v", host, got, want)
		}
	}
	q := p.QUICConfig()
	if q.MinVersion != v13 || !slices.Equal(q.NextProtos, []string{"h3"}) {
		t.Errorf("QUICConfig: MinVersion %x NextProtos %q", q.MinVersion, q.NextProtos)
	}
	for sni, ok := range map[string]bool{"h3.test": true, "h23.test": true, "h1.test": false, "other.test": false} {
		c, err := q.GetConfigForClient(&tls.ClientHelloInfo{ServerName: sni})
		if ok && (err != nil || c == nil || c.MinVersion != v13 || !slices.Equal(c.NextProtos, []string{"h3"})) {
			t.Errorf("QUIC config for %s = %v, %v; want TLS 1.3 and h3", sni, c, err)
		}
		if !ok && err == nil {
			t.Errorf("QUIC config for %s accepted; the distribution does not enable HTTP/3", sni)
		}
	}

	// One distribution answers every name, as the proxy does.
	one, err := New(config.TLS{}, nil, WithDistributions(Distribution{ID: "E1", Names: []string{"a.test"}, HTTPVersion: "http2and3"}))
	if err != nil {
		t.Fatal(err)
	}
	if !one.HTTP3("127.0.0.1:8443") {
		t.Error("single distribution: HTTP3(127.0.0.1:8443) = false")
	}
}
