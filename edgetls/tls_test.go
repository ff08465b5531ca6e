package edgetls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// serve runs a TLS listener on loopback with p's configuration; every
// accepted connection completes its handshake and is closed.
func serve(t *testing.T, p *Provider) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(ln, p.Config())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	t.Cleanup(func() {
		tl.Close()
		<-done
	})
	return ln.Addr().String()
}

// handshake dials addr and returns the connection state.
func handshake(t *testing.T, addr string, c *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, c)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

func TestSelfSigned(t *testing.T) {
	p, err := New(config.TLS{}, []string{"d111111abcdef8.cloudfront.net", "*.example.com", "cdn.example.org."})
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode() != config.TLSSelfSigned {
		t.Errorf("Mode() = %q, want %q", p.Mode(), config.TLSSelfSigned)
	}
	addr := serve(t, p)

	st, err := handshake(t, addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN = %q, want h2", st.NegotiatedProtocol)
	}
	if st.Version < tls.VersionTLS12 {
		t.Errorf("version = %x, want TLS 1.2 or later", st.Version)
	}
	leaf := st.PeerCertificates[0]
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("public key is %T, want ECDSA", leaf.PublicKey)
	}
	if life := leaf.NotAfter.Sub(time.Now()); life < 360*24*time.Hour || life > 366*24*time.Hour {
		t.Errorf("certificate valid for another %v, want about a year", life)
	}

	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"d111111abcdef8.cloudfront.net", true},
		{"www.example.com", true},
		{"cdn.example.org", true},
		{"example.com", false},
		{"a.b.example.com", false},
		{"other.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A client that trusts the certificate verifies the name in full.
			_, err := handshake(t, addr, &tls.Config{RootCAs: roots, ServerName: tc.name})
			if tc.ok && err != nil {
				t.Errorf("handshake for %s: %v", tc.name, err)
			}
			if !tc.ok && err == nil {
				t.Errorf("handshake for %s succeeded, want a name mismatch", tc.name)
			}
		})
	}

	t.Run("TLS 1.1 refused", func(t *testing.T) {
		_, err := handshake(t, addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
		if err == nil {
			t.Error("TLS 1.1 handshake succeeded")
		}
	})
}

// writePair generates a certificate for names, writes it and its key to dir
// as <cn>.crt and <cn>.key, and returns their paths.
func writePair(t *testing.T, dir, cn string, names ...string) config.CertificateFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     names,
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
	f := config.CertificateFiles{CertFile: filepath.Join(dir, cn+".crt"), KeyFile: filepath.Join(dir, cn+".key")}
	if err := os.WriteFile(f.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFilesSNI(t *testing.T) {
	dir := t.TempDir()
	first := writePair(t, dir, "first", "a.example.com", "*.wild.example.com")
	second := writePair(t, dir, "second", "b.example.com", "*.example.com")
	p, err := New(config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{first, second}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, p)

	for _, tc := range []struct {
		sni, want string
	}{
		{"a.example.com", "first"},       // exact
		{"b.example.com", "second"},      // exact
		{"A.Example.COM", "first"},       // names are case-insensitive
		{"x.wild.example.com", "first"},  // wildcard of the leftmost label
		{"c.example.com", "second"},      // wildcard
		{"deep.c.example.com", "first"},  // a wildcard covers one label only: default
		{"unknown.test", "first"},        // default: the first certificate
		{"", "first"},                    // no SNI: the first certificate
		{"a.wild.example.com.", "first"}, // trailing dot
		{"b.example.com.", "second"},     // trailing dot
	} {
		t.Run(tc.sni, func(t *testing.T) {
			st, err := handshake(t, addr, &tls.Config{InsecureSkipVerify: true, ServerName: tc.sni})
			if err != nil {
				t.Fatal(err)
			}
			if got := st.PeerCertificates[0].Subject.CommonName; got != tc.want {
				t.Errorf("SNI %q got certificate %q, want %q", tc.sni, got, tc.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	good := writePair(t, dir, "good", "good.example.com")
	other := writePair(t, dir, "other", "other.example.com")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.key")

	for _, tc := range []struct {
		name     string
		c        config.TLS
		want     string // the error starts with this
		notExist bool   // errors.Is(err, fs.ErrNotExist)
	}{
		{"unknown mode", config.TLS{Mode: "magic"}, `tls: mode: unknown mode "magic"`, false},
		{"files without certificates", config.TLS{Mode: config.TLSFiles}, "tls: certificates: ", false},
		{"missing key file", config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{
			good, {CertFile: good.CertFile, KeyFile: missing}}},
			"tls: certificates[1].keyFile: open " + missing, true},
		{"missing cert file", config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{
			{CertFile: filepath.Join(dir, "nope.crt"), KeyFile: good.KeyFile}}},
			"tls: certificates[0].certFile: open ", true},
		{"empty key file name", config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{
			{CertFile: good.CertFile}}},
			"tls: certificates[0].keyFile: required", false},
		{"not PEM", config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{
			{CertFile: garbage, KeyFile: good.KeyFile}}},
			"tls: certificates[0]: " + garbage, false},
		{"key of another certificate", config.TLS{Mode: config.TLSFiles, Certificates: []config.CertificateFiles{
			good, {CertFile: good.CertFile, KeyFile: other.KeyFile}}},
			"tls: certificates[1]: ", false},
		{"acme without hosts", config.TLS{Mode: config.TLSACME, ACME: config.ACME{CacheDir: dir}}, "tls: acme.hosts: ", false},
		{"acme wildcard", config.TLS{Mode: config.TLSACME, ACME: config.ACME{CacheDir: dir, Hosts: []string{"a.example.com", "*.example.com"}}},
			"tls: acme.hosts[1]: ", false},
		{"acme without cache dir", config.TLS{Mode: config.TLSACME, ACME: config.ACME{Hosts: []string{"a.example.com"}}},
			"tls: acme.cacheDir: required", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.c, nil)
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error starting %q", p, tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q, want it to start with %q", err, tc.want)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(%q, fs.ErrNotExist) = %v, want %v", err, got, tc.notExist)
			}
		})
	}
}

// countingHandler answers "fallback" and counts its requests.
type countingHandler struct{ n atomic.Int32 }

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.n.Add(1)
	io.WriteString(w, "fallback")
}

func TestHTTPHandlerPassThrough(t *testing.T) {
	p, err := New(config.TLS{Mode: config.TLSSelfSigned}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fb := &countingHandler{}
	if h := p.HTTPHandler(fb); h != http.Handler(fb) {
		t.Errorf("HTTPHandler in mode %s wrapped the fallback", config.TLSSelfSigned)
	}
}

// TestACME builds an acme-mode provider and exercises its HTTP-01 handler.
// It never contacts an ACME server: the challenge token is read from the
// directory cache, where autocert would have put it.
func TestACME(t *testing.T) {
	cacheDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(cacheDir, "tok123+http-01"), []byte("tok123.thumbprint"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := New(config.TLS{Mode: config.TLSACME, ACME: config.ACME{
		Hosts:        []string{"www.example.com"},
		CacheDir:     cacheDir,
		Email:        "ops@example.com",
		DirectoryURL: "https://127.0.0.1:1/directory", // never dialled
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Config()
	if !slices.Equal(c.NextProtos[:2], []string{"h2", "http/1.1"}) || c.MinVersion != tls.VersionTLS12 || c.GetCertificate == nil {
		t.Errorf("Config() = NextProtos %q MinVersion %x, want h2, http/1.1 first and TLS 1.2", c.NextProtos, c.MinVersion)
	}

	fb := &countingHandler{}
	srv := httptest.NewServer(p.HTTPHandler(fb))
	defer srv.Close()

	for _, tc := range []struct {
		name, host, path string
		status           int
		body             string // prefix
		fallback         bool
	}{
		{"token", "www.example.com", "/.well-known/acme-challenge/tok123", 200, "tok123.thumbprint", false},
		{"unknown token", "www.example.com", "/.well-known/acme-challenge/nope", 404, "", false},
		{"host not whitelisted", "evil.example.com", "/.well-known/acme-challenge/tok123", 403, "", false},
		{"other path", "www.example.com", "/index.html", 200, "fallback", true},
		{"other host", "evil.example.com", "/", 200, "fallback", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fb.n.Load()
			req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.HasPrefix(string(body), tc.body) {
				t.Errorf("GET %s (Host %s) = %d %q, want %d %q", tc.path, tc.host, resp.StatusCode, body, tc.status, tc.body)
			}
			if called := fb.n.Load() > before; called != tc.fallback {
				t.Errorf("fallback called = %v, want %v", called, tc.fallback)
			}
		})
	}
}
