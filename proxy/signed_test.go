package proxy_test

import (
	"crypto/rsa"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

// TestSignedURLs: a behaviour with TrustedKeyGroups serves only requests
// signed with a key of those groups (URLs made by the real AWS signer),
// refuses others with CloudFront's 403 XML, and keeps the signature out of
// the cache key and the origin request ("Serve private content with signed
// URLs and signed cookies").
func TestSignedURLs(t *testing.T) {
	key, pub := newSigningKey(t)
	other, _ := newSigningKey(t)
	o := newOrigin(t, static("secret object", "Cache-Control", "max-age=600"))
	e := newEdge(t, signedSettings(pub), map[string]string{"web": o.URL})

	base := "http://d111111abcdef8.cloudfront.net"
	signURL := func(k *rsa.PrivateKey, path string, exp time.Time) string {
		u, err := sign.NewURLSigner("K2PUBLICKEY001", k).Sign(base+path, exp)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := url.Parse(u)
		return p.RequestURI()
	}
	later := e.clock.Now().Add(time.Hour)
	cases := []struct {
		rule, uri string
		status    int
		code      string
		xcache    string
	}{
		{"a URL signed with a trusted key is served", signURL(key, "/private/a.txt", later), 200, "", "Miss from cloudfront"},
		{"another valid signature for it is the same cached object", signURL(key, "/private/a.txt", later.Add(time.Minute)), 200, "", "Hit from cloudfront"},
		{"no signature: 403 MissingKey", "/private/a.txt", 403, "MissingKey", "Error from cloudfront"},
		{"signed with another key: 403 AccessDenied", signURL(other, "/private/a.txt", later), 403, "AccessDenied", "Error from cloudfront"},
		{"expired: 403 AccessDenied", signURL(key, "/private/a.txt", e.clock.Now().Add(-time.Minute)), 403, "AccessDenied", "Error from cloudfront"},
		{"signed for another path: 403 AccessDenied", strings.Replace(signURL(key, "/private/b.txt", later), "/private/b.txt", "/private/a.txt", 1), 403, "AccessDenied", "Error from cloudfront"},
		{"other behaviours need no signature", "/public.txt", 200, "", "Miss from cloudfront"},
	}
	for _, c := range cases {
		r := e.do("GET", c.uri, "Host", "d111111abcdef8.cloudfront.net")
		if r.status != c.status || r.xcache() != c.xcache {
			t.Errorf("%s: %d %q, want %d %q (%s)", c.rule, r.status, r.xcache(), c.status, c.xcache, r.body)
		}
		if c.code != "" && (!strings.Contains(r.body, "<Code>"+c.code+"</Code>") || r.header.Get("Content-Type") != "text/xml") {
			t.Errorf("%s: body %q", c.rule, r.body)
		}
	}
	if n := o.pathHits("/private/a.txt"); n != 1 {
		t.Errorf("origin hits for /private/a.txt: %d, want 1", n)
	}
	req, _ := o.lastRequest()
	if strings.Contains(req.URL.RawQuery, "Signature") || strings.Contains(req.URL.RawQuery, "Key-Pair-Id") {
		t.Errorf("signature forwarded to the origin: %q", req.URL.RawQuery)
	}
}
