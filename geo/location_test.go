package geo

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/edgetls"
)

// cityDB writes a City-like database: Seattle (US, with metro code and ASN),
// München (DE, non-ASCII names) and a country-only network.
func cityDB(t *testing.T) string {
	t.Helper()
	city := func(cc, country, region, regionName, name, postal, tz string, lat, lon float64, metro, asn uint64) func(m *mmdb) {
		return func(m *mmdb) {
			m.str("country")
			m.mapStart(2)
			m.str("iso_code")
			m.str(cc)
			m.names(country)
			m.str("subdivisions")
			m.control(11, 1) // an array of one
			m.mapStart(2)
			m.str("iso_code")
			m.str(region)
			m.names(regionName)
			m.str("city")
			m.mapStart(1)
			m.names(name)
			m.str("postal")
			m.mapStart(1)
			m.str("code")
			m.str(postal)
			m.str("location")
			n := 3
			if metro != 0 {
				n++
			}
			m.mapStart(n)
			m.str("latitude")
			m.double(lat)
			m.str("longitude")
			m.double(lon)
			m.str("time_zone")
			m.str(tz)
			if metro != 0 {
				m.str("metro_code")
				m.uint(5, metro)
			}
			m.str("autonomous_system_number")
			m.uint(6, asn)
		}
	}
	b := writeMMDB(t, []mmdbEntry{
		{prefix: netip.MustParsePrefix("127.0.0.1/32"), registered: "US", extraPairs: 6,
			extra: city("US", "United States", "WA", "Washington", "Seattle", "98101", "America/Los_Angeles", 47.6062, -122.3321, 819, 16509)},
		{prefix: netip.MustParsePrefix("127.0.0.2/32"), registered: "DE", extraPairs: 6,
			extra: city("DE", "Germany", "BY", "Bayern", "München", "80331", "Europe/Berlin", 48.1374, 11.5755, 0, 3320)},
		{prefix: netip.MustParsePrefix("127.0.0.3/32"), country: "FR"},
	})
	path := filepath.Join(t.TempDir(), "test-city.mmdb")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestViewerLocationHeaders: the location headers CloudFront documents
// ("Headers for determining the viewer's location", Developer Guide,
// adding-cloudfront-headers), from the database as far as it knows them.
func TestViewerLocationHeaders(t *testing.T) {
	res, err := New(Options{Database: cityDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Close() })
	tests := []struct {
		name   string
		remote string
		want   map[string]string // "" : must be absent
	}{
		{"a US city: every header, metro code included", "127.0.0.1:40000", map[string]string{
			HeaderViewerCountry: "US", HeaderViewerCountryNm: "United States", HeaderViewerRegion: "WA",
			HeaderViewerRegionNm: "Washington", HeaderViewerCity: "Seattle", HeaderViewerPostalCode: "98101",
			HeaderViewerTimeZone: "America/Los_Angeles", HeaderViewerLatitude: "47.6062",
			HeaderViewerLongitude: "-122.3321", HeaderViewerMetroCode: "819", HeaderViewerASN: "16509",
		}},
		{"outside the US: no metro code; non-ASCII percent-encoded (RFC 3986)", "127.0.0.2:40000", map[string]string{
			HeaderViewerCountry: "DE", HeaderViewerCity: "M%C3%BCnchen", HeaderViewerRegion: "BY",
			HeaderViewerMetroCode: "", HeaderViewerASN: "3320", HeaderViewerTimeZone: "Europe/Berlin",
		}},
		{"a Country database's record: the country alone", "127.0.0.3:40000", map[string]string{
			HeaderViewerCountry: "FR", HeaderViewerCity: "", HeaderViewerLatitude: "", HeaderViewerASN: "",
			HeaderViewerTimeZone: "",
		}},
		{"unknown address: none", "10.9.9.9:40000", map[string]string{
			HeaderViewerCountry: "", HeaderViewerCity: "", HeaderViewerASN: "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.remote)
			loc := res.Locate(r, nil)
			h := http.Header{}
			ViewerHeadersAt(h, r, &loc, nil)
			for name, want := range tt.want {
				got, ok := h[name]
				switch {
				case want == "" && ok:
					t.Errorf("%s = %q, want none", name, got)
				case want != "" && (len(got) != 1 || got[0] != want):
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
	// The old entry point sets what the country alone tells.
	h := http.Header{}
	ViewerHeaders(h, request("127.0.0.1:40000"), "US", nil)
	if h.Get(HeaderViewerCountry) != "US" || h.Get(HeaderViewerCity) != "" {
		t.Errorf("ViewerHeaders: %v", h)
	}
}

// TestViewerHeaderStructure: CloudFront-Viewer-Header-Order and -Count
// ("Headers for determining the viewer's header structure",
// adding-cloudfront-headers): the order only when the front end recorded
// it, cut at 7,680 characters.
func TestViewerHeaderStructure(t *testing.T) {
	long := make([]string, 1000)
	for i := range long {
		long[i] = "X-Header-Number"
	}
	tests := []struct {
		name      string
		order     []string // nil: not recorded
		wantOrder string   // "" : absent
		wantLen   int
	}{
		{"order recorded", []string{"Host", "User-Agent", "Accept", "Accept-Encoding"}, "Host:User-Agent:Accept:Accept-Encoding", 0},
		{"order not recorded (net/http keeps none): absent", nil, "", 0},
		{"over 7,680 characters: cut", long, "", 7680},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request("127.0.0.1:40000", "User-Agent", "x", "Accept", "*/*", "Accept-Encoding", "gzip")
			if tt.order != nil {
				r = r.WithContext(WithHeaderOrder(r.Context(), tt.order))
			}
			h := http.Header{}
			ViewerHeaders(h, r, "", nil)
			got, ok := h[HeaderViewerHdrOrder]
			switch {
			case tt.wantLen > 0:
				if !ok || len(got[0]) != tt.wantLen || !strings.HasPrefix(got[0], "X-Header-Number:") {
					t.Errorf("order of length %d, want %d", len(got[0]), tt.wantLen)
				}
			case tt.wantOrder == "" && ok:
				t.Errorf("order %q, want none", got)
			case tt.wantOrder != "" && (!ok || got[0] != tt.wantOrder):
				t.Errorf("order %q, want %q", got, tt.wantOrder)
			}
			want(t, h.Get(HeaderViewerHdrCount), "4") // Host + 3
		})
	}
}

// TestViewerFingerprintHeaders: over a real TLS connection prepared by
// edgetls.CaptureHello, the JA3 and JA4 headers are set; over plain HTTP
// they are not ("only present for HTTPS requests").
func TestViewerFingerprintHeaders(t *testing.T) {
	got := make(chan http.Header, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := http.Header{}
		ViewerHeaders(out, r, "", nil)
		got <- out
	})
	tlsSrv, plainURL := fingerprintServers(t, h)
	for _, tc := range []struct {
		name  string
		url   string
		isTLS bool
	}{{"https", tlsSrv, true}, {"http", plainURL, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			defer c.CloseIdleConnections()
			resp, err := c.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			out := <-got
			ja3, ja4 := out.Get(HeaderViewerJA3), out.Get(HeaderViewerJA4)
			if tc.isTLS && (len(ja3) != 32 || len(ja4) != 36) {
				t.Errorf("JA3 %q, JA4 %q: want both", ja3, ja4)
			}
			if !tc.isTLS && (ja3 != "" || ja4 != "") {
				t.Errorf("JA3 %q, JA4 %q over plain HTTP", ja3, ja4)
			}
		})
	}
}

func want(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// fingerprintServers starts an https server on edgetls's listener
// configuration, with ConnContext capturing the ClientHello as the https
// listener does, and a plain http one; both run h.
func fingerprintServers(t *testing.T, h http.Handler) (httpsURL, httpURL string) {
	t.Helper()
	p, err := edgetls.New(config.TLS{}, []string{"example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.TLS = p.Config()
	s.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context { return edgetls.CaptureHello(ctx) }
	s.StartTLS()
	t.Cleanup(s.Close)
	plain := httptest.NewServer(h)
	t.Cleanup(plain.Close)
	return s.URL, plain.URL
}
