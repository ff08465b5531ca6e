package edgetls

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// chrome143 is a Chrome 143 ClientHello as browserleaks.com reported it
// (ja3_text, ja4_ro): ciphers, extensions and signature algorithms in wire
// order, GREASE already removed by the reporter.
func chrome143() *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		ServerName: "tls.browserleaks.com",
		CipherSuites: []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
			0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x002d, 0x0033, 0x0010, 0xfe0d, 0x0017, 0x44cd, 0x0000, 0x000b, 0x000a,
			0x002b, 0xff01, 0x0023, 0x0012, 0x0005, 0x000d, 0x001b},
		SupportedCurves:   []tls.CurveID{4588, 29, 23, 24},
		SupportedPoints:   []uint8{0},
		SignatureSchemes:  []tls.SignatureScheme{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		SupportedProtos:   []string{"h2", "http/1.1"},
		SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
	}
}

// TestFingerprintKnownAnswers checks JA3 and JA4 against values published
// for real clients (browserleaks.com's report of Chrome 143, whose JA3
// string and hash and JA4 come from independent implementations).
func TestFingerprintKnownAnswers(t *testing.T) {
	withGREASE := chrome143()
	withGREASE.CipherSuites = append([]uint16{0x3a3a}, withGREASE.CipherSuites...)
	withGREASE.Extensions = append([]uint16{0xdada}, append(withGREASE.Extensions, 0x2a2a)...)
	withGREASE.SupportedCurves = append([]tls.CurveID{0x8a8a}, withGREASE.SupportedCurves...)
	withGREASE.SupportedVersions = append([]uint16{0x7a7a}, withGREASE.SupportedVersions...)

	tests := []struct {
		name        string
		hello       *tls.ClientHelloInfo
		ja3String   string
		ja3, ja4    string
		guideOrSpec string
	}{
		{
			name:  "Chrome 143",
			hello: chrome143(),
			ja3String: "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
				"45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0",
			ja3:         "98487aa16281980e7d1120d399efb6a4",
			ja4:         "t13d1516h2_8daaf6152771_d8a2da3f94cd",
			guideOrSpec: "adding-cloudfront-headers; salesforce/ja3; FoxIO JA4",
		},
		{
			name:  "Chrome 143 with GREASE values, which both ignore",
			hello: withGREASE,
			ja3String: "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
				"45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0",
			ja3:         "98487aa16281980e7d1120d399efb6a4",
			ja4:         "t13d1516h2_8daaf6152771_d8a2da3f94cd",
			guideOrSpec: "RFC 8701; FoxIO JA4 (ignore GREASE)",
		},
		{
			name: "TLS 1.2 client without SNI, ALPN or signature algorithms",
			hello: &tls.ClientHelloInfo{
				CipherSuites:      []uint16{0xc02f, 0x009c},
				Extensions:        []uint16{0x000a, 0x000b},
				SupportedCurves:   []tls.CurveID{23},
				SupportedPoints:   []uint8{0},
				SupportedVersions: []uint16{tls.VersionTLS12, tls.VersionTLS11},
			},
			ja3String:   "771,49199-156,10-11,23,0",
			ja4:         "t12i020200_" + sha12("009c,c02f") + "_" + sha12("000a,000b"),
			guideOrSpec: "FoxIO JA4 (i: no SNI, 00: no ALPN)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JA3String(tt.hello); got != tt.ja3String {
				t.Errorf("JA3 string\n got %s\nwant %s (%s)", got, tt.ja3String, tt.guideOrSpec)
			}
			fp := FingerprintOf(tt.hello)
			wantJA3 := tt.ja3
			if wantJA3 == "" {
				sum := md5.Sum([]byte(tt.ja3String))
				wantJA3 = hex.EncodeToString(sum[:])
			}
			if fp.JA3 != wantJA3 {
				t.Errorf("JA3 = %s, want %s", fp.JA3, wantJA3)
			}
			if fp.JA4 != tt.ja4 {
				t.Errorf("JA4 = %s, want %s (%s)", fp.JA4, tt.ja4, tt.guideOrSpec)
			}
		})
	}
}

func sha12(s string) string { return hash12(s, false) }

var ja4Form = regexp.MustCompile(`^[tq](13|12|11|10|s3|00)[di]\d{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

// TestFingerprintsReachTheRequest: through a real TLS handshake on the
// Provider's Config, the fingerprint of the ClientHello reaches every
// request of the connection by its context; plain HTTP has none ("only
// present for HTTPS requests", adding-cloudfront-headers).
func TestFingerprintsReachTheRequest(t *testing.T) {
	p, err := New(config.TLS{}, []string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fp, ok := Fingerprints(r.Context())
		if !ok {
			_, _ = io.WriteString(w, "none")
			return
		}
		_, _ = io.WriteString(w, fp.JA3+" "+fp.JA4)
	}))
	srv.TLS = p.Config()
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context { return CaptureHello(ctx) }
	srv.StartTLS()
	t.Cleanup(srv.Close)

	get := func(conf *tls.Config) string {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	a := get(&tls.Config{InsecureSkipVerify: true, ServerName: "example.com"})
	b := get(&tls.Config{InsecureSkipVerify: true, ServerName: "example.com"})
	if a == "none" || a != b {
		t.Fatalf("fingerprints %q and %q: want one, the same for the same client", a, b)
	}
	ja3, ja4, _ := cut(a)
	if len(ja3) != 32 || !ja4Form.MatchString(ja4) {
		t.Errorf("JA3 %q, JA4 %q: not of their forms", ja3, ja4)
	}
	if ja4[1:4] != "13d" {
		t.Errorf("JA4 %q: want TLS 1.3 with SNI (t13d…)", ja4)
	}
	// Another ClientHello (TLS 1.2 only, one cipher suite) gets another.
	c := get(&tls.Config{InsecureSkipVerify: true, ServerName: "example.com", MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}})
	if c == a {
		t.Errorf("a different ClientHello has the same fingerprints %q", c)
	}

	// No CaptureHello (plain HTTP, or a listener not wired): none.
	if _, ok := Fingerprints(context.Background()); ok {
		t.Error("Fingerprints of a context without a connection: ok")
	}
}

func cut(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// FuzzFingerprint: any ClientHelloInfo crypto/tls can produce from a
// viewer's bytes gives fingerprints of the documented forms, never a panic.
func FuzzFingerprint(f *testing.F) {
	f.Add([]byte{0x13, 0x01, 0x00, 0x00, 0x00, 0x10}, "h2")
	f.Add([]byte{}, "")
	f.Add([]byte{0x0a, 0x0a, 0xff, 0xff}, "\x00\xff")
	f.Fuzz(func(t *testing.T, data []byte, alpn string) {
		u16 := func(b []byte) []uint16 {
			out := make([]uint16, 0, len(b)/2)
			for i := 0; i+1 < len(b); i += 2 {
				out = append(out, binary.BigEndian.Uint16(b[i:]))
			}
			return out
		}
		n := len(data)
		parts := [5][]byte{data[:n/5], data[n/5 : 2*n/5], data[2*n/5 : 3*n/5], data[3*n/5 : 4*n/5], data[4*n/5:]}
		h := &tls.ClientHelloInfo{
			CipherSuites:      u16(parts[0]),
			Extensions:        u16(parts[1]),
			SupportedVersions: u16(parts[2]),
			SupportedPoints:   parts[4],
		}
		for _, v := range u16(parts[3]) {
			h.SupportedCurves = append(h.SupportedCurves, tls.CurveID(v))
			h.SignatureSchemes = append(h.SignatureSchemes, tls.SignatureScheme(v))
		}
		if alpn != "" {
			h.SupportedProtos = []string{alpn}
		}
		fp := FingerprintOf(h)
		if len(fp.JA3) != 32 || !ja4Form.MatchString(fp.JA4) {
			t.Fatalf("JA3 %q, JA4 %q: not of their forms", fp.JA3, fp.JA4)
		}
	})
}
