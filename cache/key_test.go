package cache

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
)

func req(target string, kv ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i < len(kv); i += 2 {
		if kv[i] == "Host" {
			r.Host = kv[i+1]
			continue
		}
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

func sel(behavior string, items ...string) config.Selection {
	return config.Selection{Behavior: behavior, Items: items}
}

func key(r *http.Request, p *config.CachePolicy) string {
	return string(appendKey(nil, "E1", r, p, NormalizeEncoding(r.Header.Get("Accept-Encoding"), p)))
}

// TestAppendKey: which requests share a cache key and which do not, per
// CloudFront's cache key rules (cache policy QueryStringsConfig,
// HeadersConfig, CookiesConfig, "Cache content based on query string
// parameters", "Cache content based on cookies").
func TestAppendKey(t *testing.T) {
	none := &config.CachePolicy{}
	allQS := &config.CachePolicy{QueryStrings: sel(config.SelectAll)}
	wlQS := &config.CachePolicy{QueryStrings: sel(config.SelectWhitelist, "color")}
	exQS := &config.CachePolicy{QueryStrings: sel(config.SelectAllExcept, "utm")}
	hdrs := &config.CachePolicy{Headers: sel(config.SelectWhitelist, "Accept-Language", "Host")}
	allCk := &config.CachePolicy{Cookies: sel(config.SelectAll)}
	wlCk := &config.CachePolicy{Cookies: sel(config.SelectWhitelist, "session")}
	exCk := &config.CachePolicy{Cookies: sel(config.SelectAllExcept, "tracker")}
	enc := &config.CachePolicy{EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true}

	tests := []struct {
		rule string
		p    *config.CachePolicy
		a, b *http.Request
		same bool
	}{
		{"no query strings in the key: they are ignored", none, req("/a?x=1"), req("/a?x=2"), true},
		{"path is in the key", none, req("/a"), req("/b"), false},
		{"path is case-sensitive", none, req("/a"), req("/A"), false},
		{"escaped and unescaped path differ as sent", none, req("/a%2Fb"), req("/a/b"), false},
		{"Host is not in the default key (aliases share objects)", none, req("/a", "Host", "a.example"), req("/a", "Host", "b.example"), true},
		{"other headers are not in the default key", none, req("/a", "Accept-Language", "en"), req("/a", "Accept-Language", "de"), true},
		{"all query strings: value matters", allQS, req("/a?x=1"), req("/a?x=2"), false},
		{"all query strings: order matters", allQS, req("/a?x=1&y=2"), req("/a?y=2&x=1"), false},
		{"all query strings: name case matters", allQS, req("/a?color=red"), req("/a?Color=red"), false},
		{"all query strings: value case matters", allQS, req("/a?color=red"), req("/a?color=Red"), false},
		{"all query strings: ';' is not a separator", allQS, req("/a?color=red;size=l"), req("/a?color=red&size=l"), false},
		{"all query strings: empty members carry nothing", allQS, req("/a?x=1&&y=2"), req("/a?x=1&y=2"), true},
		{"all query strings: flag vs empty value", allQS, req("/a?x"), req("/a?x="), false},
		{"no query string vs empty one", allQS, req("/a"), req("/a?"), true},
		{"whitelist: listed parameter matters", wlQS, req("/a?color=red"), req("/a?color=blue"), false},
		{"whitelist: other parameters ignored", wlQS, req("/a?color=red&size=1"), req("/a?size=2&color=red"), true},
		{"whitelist: names are case-sensitive", wlQS, req("/a?Color=red"), req("/a?Color=blue"), true},
		{"allExcept: excluded parameter ignored", exQS, req("/a?x=1&utm=a"), req("/a?x=1&utm=b"), true},
		{"allExcept: others matter", exQS, req("/a?x=1&utm=a"), req("/a?x=2&utm=a"), false},
		{"whitelisted header value matters", hdrs, req("/a", "Accept-Language", "en"), req("/a", "Accept-Language", "de"), false},
		{"absent header vs empty header", hdrs, req("/a"), req("/a", "Accept-Language", ""), false},
		{"header values as sent", hdrs, req("/a", "Accept-Language", "en"), req("/a", "Accept-Language", "EN"), false},
		{"Host in the key when selected", hdrs, req("/a", "Host", "a.example"), req("/a", "Host", "b.example"), false},
		{"non-selected header ignored", hdrs, req("/a", "X-Other", "1"), req("/a", "X-Other", "2"), true},
		{"header values don't run into each other", hdrs, req("/a", "Accept-Language", "en", "Accept-Language", "de"), req("/a", "Accept-Language", "en,de"), false},
		{"all cookies: value matters", allCk, req("/a", "Cookie", "s=1"), req("/a", "Cookie", "s=2"), false},
		{"all cookies: order does not matter (sorted by name)", allCk, req("/a", "Cookie", "a=1; b=2"), req("/a", "Cookie", "b=2; a=1"), true},
		{"all cookies: split over two Cookie lines", allCk, req("/a", "Cookie", "a=1", "Cookie", "b=2"), req("/a", "Cookie", "b=2; a=1"), true},
		{"all cookies: names are case-sensitive", allCk, req("/a", "Cookie", "s=1"), req("/a", "Cookie", "S=1"), false},
		{"whitelist cookies: others ignored", wlCk, req("/a", "Cookie", "session=1; x=1"), req("/a", "Cookie", "x=2; session=1"), true},
		{"whitelist cookies: listed matters", wlCk, req("/a", "Cookie", "session=1"), req("/a", "Cookie", "session=2"), false},
		{"allExcept cookies", exCk, req("/a", "Cookie", "tracker=1; a=1"), req("/a", "Cookie", "tracker=2; a=1"), true},
		{"no cookies in the key: ignored", none, req("/a", "Cookie", "s=1"), req("/a", "Cookie", "s=2"), true},
		{"gzip and br viewers differ", enc, req("/a", "Accept-Encoding", "gzip"), req("/a", "Accept-Encoding", "br"), false},
		{"Accept-Encoding normalised: extra codings ignored", enc, req("/a", "Accept-Encoding", "gzip, deflate"), req("/a", "Accept-Encoding", "gzip"), true},
		{"no compression vs identity", enc, req("/a"), req("/a", "Accept-Encoding", "identity"), true},
		{"encoding ignored when the policy caches no compressed objects", none, req("/a", "Accept-Encoding", "gzip"), req("/a"), true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			ka, kb := key(tt.a, tt.p), key(tt.b, tt.p)
			if (ka == kb) != tt.same {
				t.Errorf("same key = %v, want %v\n a: %q\n b: %q", ka == kb, tt.same, ka, kb)
			}
		})
	}
}

// TestAppendKeyNoAmbiguity: moving bytes between parts never yields the
// same key.
func TestAppendKeyNoAmbiguity(t *testing.T) {
	p := &config.CachePolicy{QueryStrings: sel(config.SelectAll), Headers: sel(config.SelectWhitelist, "X-A", "X-B"), Cookies: sel(config.SelectAll)}
	a := string(appendKey(nil, "E1", req("/a", "X-A", "1", "X-B", ""), p, ""))
	b := string(appendKey(nil, "E1", req("/a", "X-A", "", "X-B", "1"), p, ""))
	c := string(appendKey(nil, "E1/a", req("/"), p, ""))
	d := string(appendKey(nil, "E1", req("/a/"), p, ""))
	e := string(appendKey(nil, "E1", req("/a", "Cookie", "x=1"), p, "gzip"))
	f := string(appendKey(nil, "E1", req("/a", "Cookie", "x=1g"), p, "zip"))
	for _, pair := range [][2]string{{a, b}, {c, d}, {e, f}} {
		if pair[0] == pair[1] {
			t.Errorf("collision: %q", pair[0])
		}
	}
}

func TestNormalizeEncoding(t *testing.T) {
	both := &config.CachePolicy{EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true}
	gz := &config.CachePolicy{EnableAcceptEncodingGzip: true}
	br := &config.CachePolicy{EnableAcceptEncodingBrotli: true}
	off := &config.CachePolicy{}
	tests := []struct {
		ae   string
		p    *config.CachePolicy
		want string
	}{
		{"gzip, deflate, br", both, "br,gzip"},    // both accepted: both in the key (controlling-the-cache-key)
		{"gzip, deflate, br", gz, "gzip"},         // only gzip cached by the policy
		{"gzip, deflate, br", br, "br"},           // only br cached
		{"gzip", br, ""},                          // viewer lacks the enabled format
		{"gzip, br", off, ""},                     // policy caches no compressed objects
		{"deflate, sdch", both, ""},               // other codings dropped
		{"identity", both, ""},                    // identity is no compression
		{"*", both, ""},                           // '*' does not name gzip or br
		{"", both, ""},                            // no header
		{"GZIP", both, "gzip"},                    // codings are case-insensitive
		{"x-gzip", both, "gzip"},                  // x-gzip is gzip (RFC 9110 §8.4.1.3)
		{"br;q=0, gzip", both, "gzip"},            // q=0: not acceptable (RFC 9110 §12.5.3)
		{"br;q=0.000, gzip;q=0", both, ""},        // every form of zero
		{"br;q=0.5, gzip;q=1.0", both, "br,gzip"}, // weights other than 0 do not matter
		{" br ; q=0.1 ", both, "br"},              // odd spacing
		{"gzip;q=0.0001", both, "gzip"},           // small but not zero
		{"brotli, gzipped", both, ""},             // not the token
		{"gzip, br", nil, ""},                     // nil policy
	}
	for _, tt := range tests {
		if got := NormalizeEncoding(tt.ae, tt.p); got != tt.want {
			t.Errorf("NormalizeEncoding(%q, %+v) = %q, want %q", tt.ae, tt.p, got, tt.want)
		}
	}
	for _, tt := range []struct {
		enc        string
		viewerSent bool
		want       string
		ok         bool
	}{
		{"br,gzip", true, "br,gzip", true}, // the key's encodings
		{"gzip", true, "gzip", true},
		{"", true, "identity", true}, // the viewer accepts neither
		{"", false, "", false},       // the viewer sent no header: none
	} {
		if got, ok := OriginAcceptEncoding(tt.enc, tt.viewerSent); got != tt.want || ok != tt.ok {
			t.Errorf("OriginAcceptEncoding(%q, %v) = %q, %v; want %q, %v", tt.enc, tt.viewerSent, got, ok, tt.want, tt.ok)
		}
	}
	for enc, want := range map[string]string{"br,gzip": "br", "br": "br", "gzip": "gzip", "": ""} {
		if got := PreferredEncoding(enc); got != want {
			t.Errorf("PreferredEncoding(%q) = %q, want %q", enc, got, want)
		}
	}
}

// FuzzAppendKey: AppendKey never panics on any request, and two requests
// that differ in a part the policy selects never share a key.
func FuzzAppendKey(f *testing.F) {
	f.Add("E1", "/a", "/b", "1", "2", "en", "de", "s1", "s2", "x=1&y=2", "a=1; b=2")
	f.Add("E1", "/a b", "/a%20b", "", "", "", "", "", "", "&&=&", ";;=;")
	f.Fuzz(func(t *testing.T, dist, p1, p2, q1, q2, h1, h2, c1, c2, rawQuery, rawCookie string) {
		pol := &config.CachePolicy{
			QueryStrings: sel(config.SelectWhitelist, "k"),
			Headers:      sel(config.SelectWhitelist, "X-A"),
			Cookies:      sel(config.SelectAll),
		}
		build := func(path, q, h, c string) *http.Request {
			r := &http.Request{Method: "GET", URL: &url.URL{Path: path, RawQuery: "k=" + url.QueryEscape(q)}, Header: http.Header{}}
			r.Header["X-A"] = []string{h}
			r.Header["Cookie"] = []string{"c=" + c}
			return r
		}
		// A cookie value cannot hold ';' (it would start another cookie),
		// and the spaces around it are not part of it.
		c1, c2 = strings.ReplaceAll(c1, ";", ""), strings.ReplaceAll(c2, ";", "")
		cookieVal := trimOWS
		a := build(p1, q1, h1, c1)
		b := build(p2, q2, h2, c2)
		ka := string(appendKey(nil, dist, a, pol, "gzip"))
		kb := string(appendKey(nil, dist, b, pol, "gzip"))
		differ := p1 != p2 || q1 != q2 || h1 != h2 || cookieVal(c1) != cookieVal(c2)
		if differ && ka == kb {
			t.Fatalf("different requests share key %q", ka)
		}
		if !differ && ka != kb {
			t.Fatalf("same request, different keys:\n%q\n%q", ka, kb)
		}
		// The distribution and path boundary never shifts.
		if dist != p1 && string(appendKey(nil, dist+p1, build("", q1, h1, c1), pol, "")) == string(appendKey(nil, dist, build(p1, q1, h1, c1), pol, "")) && p1 != "" {
			t.Fatalf("distribution/path boundary is ambiguous for %q %q", dist, p1)
		}
		// Arbitrary raw input never panics, under every behaviour.
		r := &http.Request{Method: "GET", URL: &url.URL{Path: p1, RawQuery: rawQuery}, Header: http.Header{"Cookie": {rawCookie}, "X-A": {h1}}, Host: h2}
		for _, b := range []string{config.SelectNone, config.SelectWhitelist, config.SelectAllExcept, config.SelectAll} {
			bp := &config.CachePolicy{QueryStrings: sel(b, "x", "k"), Headers: sel(b, "X-A", "Host"), Cookies: sel(b, "a")}
			_ = appendKey(nil, dist, r, bp, NormalizeEncoding(rawQuery, bp))
		}
	})
}

func BenchmarkAppendKey(b *testing.B) {
	p := &config.CachePolicy{
		QueryStrings:               sel(config.SelectWhitelist, "v", "lang"),
		Headers:                    sel(config.SelectWhitelist, "Accept-Language", "Host"),
		Cookies:                    sel(config.SelectWhitelist, "session", "pref"),
		EnableAcceptEncodingGzip:   true,
		EnableAcceptEncodingBrotli: true,
	}
	r := req("/static/js/app.0123456789.js?v=42&utm_source=x&lang=en",
		"Host", "www.example.com",
		"Accept-Language", "en-US,en;q=0.9",
		"Accept-Encoding", "gzip, deflate, br, zstd",
		"Cookie", "pref=dark; _ga=GA1.2.3; session=abcdef0123456789")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		enc := NormalizeEncoding(r.Header.Get("Accept-Encoding"), p)
		buf = appendKey(buf[:0], "E2EXAMPLE", r, p, enc)
	}
}

// appendKey is AppendKey for the viewer's own path.
func appendKey(dst []byte, dist string, r *http.Request, p *config.CachePolicy, enc string) []byte {
	return AppendKey(dst, dist, r.URL.EscapedPath(), r, p, enc)
}

// TestDescribeKey: a key reads back as its parts, in order.
func TestDescribeKey(t *testing.T) {
	p := &config.CachePolicy{
		QueryStrings: sel(config.SelectAll), Headers: sel(config.SelectWhitelist, "Origin", "Host"),
		Cookies: sel(config.SelectWhitelist, "id"), EnableAcceptEncodingGzip: true,
	}
	r := req("/a.js?v=1&w=2", "Origin", "https://x.example", "Host", "d1.example", "Cookie", "id=7; other=1", "Accept-Encoding", "gzip")
	k := key(r, p)
	want := `dist=E1 path=/a.js query=[v=1 w=2] headers=[Origin: https://x.example Host: d1.example] cookies=[id=7] encoding=gzip`
	if got := DescribeKey(k); got != want {
		t.Errorf("DescribeKey:\n got %s\nwant %s", got, want)
	}
	if got := DescribeKey(k + "\x00OPTIONS"); got != want+` "\x00OPTIONS"` {
		t.Errorf("with a suffix: %s", got)
	}
	if got := DescribeKey("not a key"); got != `"not a key"` {
		t.Errorf("not a key: %s", got)
	}
}
