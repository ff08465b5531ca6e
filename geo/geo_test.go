package geo

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// testDB writes the test database and returns its path.
func testDB(t *testing.T) string {
	t.Helper()
	b := writeMMDB(t, []mmdbEntry{
		{prefix: netip.MustParsePrefix("127.0.0.0/8"), registered: "US"}, // no country: the registered one
		{prefix: netip.MustParsePrefix("127.0.0.1/32"), country: "DE", registered: "DE"},
		{prefix: netip.MustParsePrefix("127.0.0.2/32"), country: "FR"},
		{prefix: netip.MustParsePrefix("127.0.0.3/32")}, // a record without countries
		{prefix: netip.MustParsePrefix("127.0.1.0/24"), country: "JP"},
	})
	path := filepath.Join(t.TempDir(), "test-country.mmdb")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func request(remote string, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://d111111abcdef8.cloudfront.net/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestCountry(t *testing.T) {
	db := testDB(t)
	for _, tc := range []struct {
		name   string
		opts   Options
		remote string
		ip     string // passed as ip; "" for nil
		hdr    string // CloudFront-Viewer-Country sent by the viewer
		want   string
	}{
		{"database exact", Options{Database: db}, "127.0.0.1:40000", "", "", "DE"},
		{"database other host", Options{Database: db}, "127.0.0.2:40000", "", "", "FR"},
		{"database /24", Options{Database: db}, "127.0.1.200:40000", "", "", "JP"},
		{"registered country when no country", Options{Database: db}, "127.0.0.9:40000", "", "", "US"},
		{"record without countries", Options{Database: db}, "127.0.0.3:40000", "", "", ""},
		{"ip argument wins over RemoteAddr", Options{Database: db}, "127.0.0.1:40000", "127.0.0.2", "", "FR"},
		{"IPv4-mapped IPv6", Options{Database: db}, "[::ffff:127.0.0.1]:40000", "", "", "DE"},
		{"IPv6 in an IPv4 database", Options{Database: db}, "[::1]:40000", "", "", ""},
		{"RemoteAddr without port", Options{Database: db}, "127.0.0.2", "", "", "FR"},
		{"garbage RemoteAddr", Options{Database: db}, "nonsense", "", "", ""},
		{"header ignored unless trusted", Options{Database: db}, "127.0.0.1:40000", "", "KP", "DE"},
		{"trusted header wins", Options{Database: db, TrustHeader: true}, "127.0.0.1:40000", "", "KP", "KP"},
		{"trusted header must be a code", Options{Database: db, TrustHeader: true}, "127.0.0.1:40000", "", "kp", "DE"},
		{"trusted header, no database", Options{TrustHeader: true}, "127.0.0.1:40000", "", "IR", "IR"},
		{"fixed country when nothing else", Options{Database: db, Country: "NZ"}, "127.0.0.3:40000", "", "", "NZ"},
		{"database before fixed", Options{Database: db, Country: "NZ"}, "127.0.0.1:40000", "", "", "DE"},
		{"fixed only", Options{Country: "CA"}, "[::1]:40000", "", "", "CA"},
		{"nothing configured", Options{}, "127.0.0.1:40000", "", "US", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var ip net.IP
			if tc.ip != "" {
				ip = net.ParseIP(tc.ip)
			}
			req := request(tc.remote)
			if tc.hdr != "" {
				req.Header.Set("CloudFront-Viewer-Country", tc.hdr)
			}
			if got := r.Country(req, ip); got != tc.want {
				t.Errorf("Country = %q, want %q", got, tc.want)
			}
		})
	}
	var nilResolver *Resolver
	if got := nilResolver.Country(request("127.0.0.1:1"), nil); got != "" {
		t.Errorf("nil Resolver: Country = %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a maxmind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"missing database", Options{Database: filepath.Join(t.TempDir(), "nope.mmdb")}, "geo: database: "},
		{"not a database", Options{Database: garbage}, "geo: database: "},
		{"bad fixed country", Options{Country: "usa"}, `geo: country: "usa" is not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error starting %q", err, tc.want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	white := config.GeoRestriction{Type: "whitelist", Countries: []string{"DE", "FR"}}
	black := config.GeoRestriction{Type: "blacklist", Countries: []string{"KP", "IR"}}
	none := config.GeoRestriction{Type: "none"}
	for _, tc := range []struct {
		name    string
		gr      config.GeoRestriction
		country string
		want    bool
	}{
		{"whitelisted", white, "DE", true},
		{"not whitelisted", white, "US", false},
		{"unknown under whitelist is served", white, "", true},
		{"blacklisted", black, "KP", false},
		{"not blacklisted", black, "DE", true},
		{"unknown under blacklist is served", black, "", true},
		{"no restriction", none, "KP", true},
		{"zero value", config.GeoRestriction{}, "KP", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Allowed(tc.gr, tc.country); got != tc.want {
				t.Errorf("Allowed(%v, %q) = %v, want %v", tc.gr, tc.country, got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	restricted := []*config.Distribution{{ID: "E1", GeoRestriction: config.GeoRestriction{Type: "none"}},
		{ID: "E2", GeoRestriction: config.GeoRestriction{Type: "blacklist", Countries: []string{"KP"}}}}
	open := restricted[:1]
	nothing, _ := New(Options{})
	header, _ := New(Options{TrustHeader: true})
	if err := nothing.Check(restricted); !errors.Is(err, ErrNoDatabase) || !strings.HasPrefix(err.Error(), "distribution E2: ") {
		t.Errorf("Check without sources = %v, want ErrNoDatabase naming E2", err)
	}
	if err := nothing.Check(open); err != nil {
		t.Errorf("Check of unrestricted distributions = %v", err)
	}
	if err := header.Check(restricted); err != nil {
		t.Errorf("Check with a trusted header = %v", err)
	}
}

// TestViewerHeaders computes the headers for real requests over plain HTTP,
// HTTPS with HTTP/1.1, and HTTP/2.
func TestViewerHeaders(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := http.Header{}
		country := r.Header.Get("X-Test-Country")
		var include func(string) bool
		if only := r.Header.Get("X-Test-Only"); only != "" {
			include = func(n string) bool { return n == only }
		}
		ViewerHeaders(out, r, country, include)
		_ = json.NewEncoder(w).Encode(out)
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	secure := httptest.NewUnstartedServer(h)
	secure.EnableHTTP2 = true
	secure.StartTLS()
	defer secure.Close()

	h1TLS := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}}}
	defer h1TLS.CloseIdleConnections()
	h2 := secure.Client()

	const (
		iphone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
		ipad    = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
		android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
		tablet  = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
		desktop = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
		tv      = "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0 TV Safari/537.36"
	)
	for _, tc := range []struct {
		name   string
		client *http.Client
		base   string
		hdr    []string
		want   map[string]string // "" means: absent
	}{
		{"plain http, desktop", plain.Client(), plain.URL, []string{"User-Agent", desktop, "X-Test-Country", "DE"}, map[string]string{
			"Cloudfront-Forwarded-Proto": "http", "Cloudfront-Viewer-Http-Version": "1.1", "Cloudfront-Viewer-Country": "DE",
			"Cloudfront-Viewer-Tls": "", "Cloudfront-Is-Desktop-Viewer": "true", "Cloudfront-Is-Mobile-Viewer": "false",
			"Cloudfront-Is-Tablet-Viewer": "false", "Cloudfront-Is-Smarttv-Viewer": "false", "Cloudfront-Is-Ios-Viewer": "false",
			"Cloudfront-Is-Android-Viewer": "false"}},
		{"https HTTP/1.1 TLS 1.2, iPhone, unknown country", h1TLS, secure.URL, []string{"User-Agent", iphone}, map[string]string{
			"Cloudfront-Forwarded-Proto": "https", "Cloudfront-Viewer-Http-Version": "1.1", "Cloudfront-Viewer-Country": "",
			"Cloudfront-Viewer-Tls":    "TLSv1.2:ECDHE-RSA-AES128-GCM-SHA256:fullHandshake",
			"Cloudfront-Is-Ios-Viewer": "true", "Cloudfront-Is-Mobile-Viewer": "true", "Cloudfront-Is-Desktop-Viewer": "false", "Cloudfront-Is-Tablet-Viewer": "false"}},
		{"HTTP/2 TLS 1.3, iPad", h2, secure.URL, []string{"User-Agent", ipad}, map[string]string{
			"Cloudfront-Viewer-Http-Version": "2.0", "Cloudfront-Viewer-Tls": "TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake",
			"Cloudfront-Is-Ios-Viewer": "true", "Cloudfront-Is-Tablet-Viewer": "true", "Cloudfront-Is-Mobile-Viewer": "true", "Cloudfront-Is-Desktop-Viewer": "false"}},
		{"Android phone", plain.Client(), plain.URL, []string{"User-Agent", android}, map[string]string{
			"Cloudfront-Is-Android-Viewer": "true", "Cloudfront-Is-Mobile-Viewer": "true", "Cloudfront-Is-Tablet-Viewer": "false", "Cloudfront-Is-Desktop-Viewer": "false"}},
		{"Android tablet", plain.Client(), plain.URL, []string{"User-Agent", tablet}, map[string]string{
			"Cloudfront-Is-Android-Viewer": "true", "Cloudfront-Is-Tablet-Viewer": "true", "Cloudfront-Is-Desktop-Viewer": "false"}},
		{"smart TV", plain.Client(), plain.URL, []string{"User-Agent", tv}, map[string]string{
			"Cloudfront-Is-Smarttv-Viewer": "true", "Cloudfront-Is-Desktop-Viewer": "false", "Cloudfront-Is-Mobile-Viewer": "false"}},
		{"bad country is not sent", plain.Client(), plain.URL, []string{"X-Test-Country", "Germany"}, map[string]string{"Cloudfront-Viewer-Country": ""}},
		{"include selects", plain.Client(), plain.URL, []string{"X-Test-Country", "DE", "X-Test-Only", "Cloudfront-Viewer-Country"}, map[string]string{
			"Cloudfront-Viewer-Country": "DE", "Cloudfront-Forwarded-Proto": "", "Cloudfront-Is-Desktop-Viewer": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tc.base+"/", nil)
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				req.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			resp, err := tc.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got http.Header
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			for name, want := range tc.want {
				if v := got.Get(name); v != want {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
			if _, ok := tc.want["Cloudfront-Forwarded-Proto"]; !ok || tc.want["Cloudfront-Forwarded-Proto"] != "" {
				addr := got.Get("Cloudfront-Viewer-Address")
				if ap, err := netip.ParseAddrPort(addr); err != nil || ap.Addr() != netip.MustParseAddr("127.0.0.1") || ap.Port() == 0 {
					t.Errorf("Cloudfront-Viewer-Address = %q, want 127.0.0.1:<port>", addr)
				}
				if got.Get("Cloudfront-Viewer-Header-Count") == "" {
					t.Error("Cloudfront-Viewer-Header-Count missing")
				}
			}
		})
	}
}

func TestIsCloudFrontHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Cloudfront-Viewer-Country": true, "Cloudfront-Is-Mobile-Viewer": true, "Cloudfront-Forwarded-Proto": true,
		"Cloudfront-Policy": true, "X-Cloudfront-Viewer-Country": false, "Host": false,
	} {
		if got := IsCloudFrontHeader(name); got != want {
			t.Errorf("IsCloudFrontHeader(%q) = %v, want %v", name, got, want)
		}
	}
	for _, h := range Headers {
		if h != http.CanonicalHeaderKey(h) || !IsCloudFrontHeader(h) {
			t.Errorf("Headers has %q, not canonical or not a CloudFront header", h)
		}
	}
}

// FuzzViewerHeaders feeds arbitrary User-Agent and viewer-sent country
// values: every CloudFront-Is-* value is true or false, exactly one of
// desktop/mobile/tablet/smartTV-or-desktop holds, and the country header is
// a country code or absent.
func FuzzViewerHeaders(f *testing.F) {
	r, err := New(Options{TrustHeader: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ua, country string) {
		req := request("127.0.0.1:1234")
		req.Header["User-Agent"] = []string{ua}
		req.Header["Cloudfront-Viewer-Country"] = []string{country}
		out := http.Header{}
		ViewerHeaders(out, req, r.Country(req, nil), nil)
		for _, h := range Headers {
			if !strings.HasPrefix(h, "Cloudfront-Is-") {
				continue
			}
			if v := out.Get(h); v != "true" && v != "false" {
				t.Fatalf("%s = %q", h, v)
			}
		}
		desktop := out.Get(HeaderIsDesktopViewer) == "true"
		other := out.Get(HeaderIsMobileViewer) == "true" || out.Get(HeaderIsTabletViewer) == "true" || out.Get(HeaderIsSmartTVViewer) == "true"
		if desktop == other {
			t.Fatalf("UA %q: desktop %v, mobile/tablet/TV %v", ua, desktop, other)
		}
		if c, ok := out[HeaderViewerCountry]; ok && (len(c) != 1 || !IsCountryCode(c[0]) || c[0] != country) {
			t.Fatalf("country %q → %q", country, c)
		}
	})
}
