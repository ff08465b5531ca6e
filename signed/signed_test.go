package signed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/edgefront/edgefront/config"
)

// The test keys (testdata/keys, throwaway keys made for these tests): A and
// the ECDSA key are in key group "group-a", which the protected behaviour
// trusts; B is in "group-b", which it does not; C is a legacy key pair of
// the account "self".
const (
	keyA     = "K2JCJMDEHXQW5F"
	keyB     = "K3BBBBBBBBBBBB"
	keyEC    = "KECEXAMPLE0001"
	keyPairC = "APKAEXAMPLE000C"
)

type testKeys struct {
	a, b, c *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	keys    *config.Keys
}

func loadTestKeys(t testing.TB) *testKeys {
	t.Helper()
	rsaKey := func(name string) *rsa.PrivateKey {
		k, err := sign.LoadPEMPrivKeyFile("testdata/keys/" + name + ".pem")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	pub := func(name string) crypto.PublicKey {
		data, err := os.ReadFile("testdata/keys/" + name + ".pub.pem")
		if err != nil {
			t.Fatal(err)
		}
		k, reason := config.ParsePublicKey(data)
		if reason != "" {
			t.Fatalf("%s: %s", name, reason)
		}
		return k
	}
	f, err := os.Open("testdata/keys/ec-a.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ecSigner, err := sign.LoadPEMPrivKeyPKCS8AsSigner(f)
	if err != nil {
		t.Fatal(err)
	}
	tk := &testKeys{a: rsaKey("rsa-a"), b: rsaKey("rsa-b"), c: rsaKey("rsa-c"), ec: ecSigner.(*ecdsa.PrivateKey)}
	pa := &config.PublicKey{ID: keyA, Key: pub("rsa-a")}
	pb := &config.PublicKey{ID: keyB, Key: pub("rsa-b")}
	pe := &config.PublicKey{ID: keyEC, Key: pub("ec-a")}
	tk.keys = &config.Keys{
		PublicKeys: map[string]*config.PublicKey{keyA: pa, keyB: pb, keyEC: pe},
		KeyGroups: map[string]*config.KeyGroup{
			"group-a": {ID: "group-a", Keys: map[string]*config.PublicKey{keyA: pa, keyEC: pe}},
			"group-b": {ID: "group-b", Keys: map[string]*config.PublicKey{keyB: pb}},
		},
		KeyPairs: map[string]*config.KeyPair{keyPairC: {ID: keyPairC, Account: "self", Key: pub("rsa-c")}},
	}
	return tk
}

var (
	protected = &config.Behavior{PathPattern: "private/*", TrustedKeyGroups: []string{"group-a"}}
	legacy    = &config.Behavior{PathPattern: "legacy/*", TrustedSigners: []string{"self"}}
	open      = &config.Behavior{PathPattern: "*"}
)

// checkServer is a real listener whose handler runs the verifier for the
// behaviour named by the path's first segment and answers the Denial as
// CloudFront would, or 200 "ok".
func checkServer(t *testing.T, v *Verifier, useTLS bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := open
		switch {
		case strings.HasPrefix(r.URL.Path, "/private/"):
			b = protected
		case strings.HasPrefix(r.URL.Path, "/legacy/"):
			b = legacy
		}
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if d := v.Check(r, b, ip, time.Now()); d != nil {
			w.Header().Set("Content-Type", ContentType)
			w.Header().Set("X-Denial-Reason", d.Reason)
			w.WriteHeader(d.Status)
			_, _ = w.Write(d.Body())
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	var s *httptest.Server
	if useTLS {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

type result struct {
	status int
	body   string
	reason string
}

func get(t *testing.T, c *http.Client, rawURL string, cookies []*http.Cookie) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusForbidden && resp.Header.Get("Content-Type") != ContentType {
		t.Errorf("403 Content-Type = %q, want %q", resp.Header.Get("Content-Type"), ContentType)
	}
	return result{resp.StatusCode, string(body), resp.Header.Get("X-Denial-Reason")}
}

func xmlError(code string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + message(code) + `</Message></Error>`
}

// customPolicy builds a custom policy with the SDK's types.
func customPolicy(resource string, expires time.Time, starts time.Time, ip string) *sign.Policy {
	p := sign.NewCannedPolicy(resource, expires)
	if !starts.IsZero() {
		p.Statements[0].Condition.DateGreaterThan = sign.NewAWSEpochTime(starts)
	}
	if ip != "" {
		p.Statements[0].Condition.IPAddress = &sign.IPAddress{SourceIP: ip}
	}
	return p
}

// setQuery replaces one parameter of a signed URL, keeping the others in place.
func setQuery(t *testing.T, signedURL, name, value string) string {
	t.Helper()
	base, query, _ := strings.Cut(signedURL, "?")
	var parts []string
	for p := range strings.SplitSeq(query, "&") {
		if n, _, _ := strings.Cut(p, "="); n == name {
			if value == "\x00" { // drop it
				continue
			}
			p = name + "=" + value
		}
		parts = append(parts, p)
	}
	return base + "?" + strings.Join(parts, "&")
}

// flip changes one character of a base64 value in the middle.
func flip(s string) string {
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestSignedURLs(t *testing.T) {
	tk := loadTestKeys(t)
	v := &Verifier{Keys: tk.keys}
	srv := checkServer(t, v, false)
	base := srv.URL // http://127.0.0.1:port
	now := time.Now()
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)

	signerA := sign.NewURLSigner(keyA, tk.a)
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	canned := must(signerA.Sign(base+"/private/a.jpg?color=red&size=medium", later))
	custom := must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/private/*", later, time.Time{}, "")))
	// A signature over the URL with the SHA-256 hash (Hash-Algorithm=SHA256),
	// which the SDK does not make: signed here with crypto/rsa.
	sum := sha256.Sum256(CannedPolicy(base+"/private/sha256.jpg", later.Unix()))
	sig256, err := rsa.SignPKCS1v15(rand.Reader, tk.a, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sha256URL := base + "/private/sha256.jpg?Expires=" + strconv.FormatInt(later.Unix(), 10) +
		"&Signature=" + EncodeBase64(sig256) + "&Key-Pair-Id=" + keyA + "&Hash-Algorithm=SHA256"
	policyParam := func(u string) string {
		q, _ := url.ParseQuery(strings.SplitN(u, "?", 2)[1])
		return q.Get("Policy")
	}
	otherPolicy := must(signerA.SignWithPolicy(base+"/private/b.jpg", customPolicy(base+"/private/b.jpg", later, time.Time{}, "")))

	tests := []struct {
		name   string
		url    string
		status int
		code   string // the XML error's code when refused
		reason string // a piece of the Denial's Reason
	}{
		{"unprotected behaviour needs no signature", base + "/public.txt", 200, "", ""},
		{"canned policy from the SDK", canned, 200, "", ""},
		{"canned policy, own parameters after Key-Pair-Id", strings.Replace(canned, "?color=red&size=medium&", "?", 1) + "&color=red&size=medium", 200, "", ""},
		{"custom policy with a wildcard resource", custom, 200, "", ""},
		{"custom policy, wildcard covers another object", strings.Replace(custom, "/private/a.jpg", "/private/dir/b.jpg", 1), 200, "", ""},
		{"custom policy, one IP address", must(signerA.SignWithPolicy(base+"/private/ip.jpg", customPolicy(base+"/private/ip.jpg", later, time.Time{}, "127.0.0.1/32"))), 200, "", ""},
		{"custom policy, started", must(signerA.SignWithPolicy(base+"/private/s.jpg", customPolicy(base+"/private/s.jpg", later, earlier, "127.0.0.0/8"))), 200, "", ""},
		{"custom policy with Resource * grants every object", must(signerA.SignWithPolicy(base+"/private/any.jpg", &sign.Policy{Statements: []sign.Statement{{Resource: "*", Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(later)}}}})), 200, "", ""},
		{"scheme wildcard http*://", must(signerA.SignWithPolicy(base+"/private/w.jpg", customPolicy("http*://"+strings.TrimPrefix(base, "http://")+"/private/w.jpg", later, time.Time{}, ""))), 200, "", ""},
		{"ECDSA P-256 key", must(sign.NewURLSigner(keyEC, tk.ec).Sign(base+"/private/ec.jpg", later)), 200, "", ""},
		{"SHA-256 signature", sha256URL, 200, "", ""},
		{"legacy trusted signer key pair", must(sign.NewURLSigner(keyPairC, tk.c).Sign(base+"/legacy/a.jpg", later)), 200, "", ""},

		{"no signature at all", base + "/private/a.jpg", 403, MissingKey, ""},
		{"no Key-Pair-Id", setQuery(t, canned, "Key-Pair-Id", "\x00"), 403, MissingKey, ""},
		{"empty Key-Pair-Id", setQuery(t, canned, "Key-Pair-Id", ""), 403, MissingKey, ""},
		{"wrong key pair ID", setQuery(t, canned, "Key-Pair-Id", "KNOTAKEY000000"), 403, InvalidKey, "not trusted"},
		{"key of a group the behaviour does not trust", must(sign.NewURLSigner(keyB, tk.b).Sign(base+"/private/a.jpg", later)), 403, InvalidKey, "not trusted"},
		{"legacy key pair on a key-group behaviour", must(sign.NewURLSigner(keyPairC, tk.c).Sign(base+"/private/a.jpg", later)), 403, InvalidKey, ""},
		{"key-group key on a legacy behaviour", must(signerA.Sign(base+"/legacy/a.jpg", later)), 403, InvalidKey, ""},
		{"right ID, other private key", must(sign.NewURLSigner(keyA, tk.b).Sign(base+"/private/a.jpg", later)), 403, AccessDenied, "signature"},
		{"no Signature", setQuery(t, canned, "Signature", "\x00"), 403, MalformedSignature, ""},
		{"Signature not base64", setQuery(t, canned, "Signature", "%21%21%21"), 403, MalformedSignature, ""},
		{"tampered signature", setQuery(t, canned, "Signature", flip(strings.Split(strings.Split(canned, "Signature=")[1], "&")[0])), 403, AccessDenied, "signature"},
		{"tampered Expires", setQuery(t, canned, "Expires", strconv.FormatInt(later.Unix()+3600, 10)), 403, AccessDenied, "signature"},
		{"Expires not a number", setQuery(t, canned, "Expires", "soon"), 403, MalformedPolicy, ""},
		{"tampered URL path", strings.Replace(canned, "/private/a.jpg", "/private/b.jpg", 1), 403, AccessDenied, "signature"},
		{"tampered URL query", strings.Replace(canned, "color=red", "color=blue", 1), 403, AccessDenied, "signature"},
		{"extra query parameter", canned + "&admin=1", 403, AccessDenied, "signature"},
		{"expired canned", must(signerA.Sign(base+"/private/a.jpg", earlier)), 403, AccessDenied, "expired"},
		{"expired custom", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/private/*", earlier, time.Time{}, ""))), 403, AccessDenied, "expired"},
		{"not yet valid", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/private/*", later, now.Add(30*time.Minute), ""))), 403, AccessDenied, "not valid before"},
		{"wrong IP", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/private/*", later, time.Time{}, "192.0.2.0/24"))), 403, AccessDenied, "viewer address"},
		{"IPv6 range, IPv4 viewer", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/private/*", later, time.Time{}, "2001:db8::/32"))), 403, AccessDenied, "viewer address"},
		{"wrong resource", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/private/b.jpg", later, time.Time{}, ""))), 403, AccessDenied, "does not match"},
		{"wildcard for another directory", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(base+"/other/*", later, time.Time{}, ""))), 403, AccessDenied, "does not match"},
		{"'?' matches exactly one character", must(signerA.SignWithPolicy(base+"/private/ab.jpg", customPolicy(base+"/private/?.jpg", later, time.Time{}, ""))), 403, AccessDenied, "does not match"},
		{"https resource on http", must(signerA.SignWithPolicy(base+"/private/a.jpg", customPolicy(strings.Replace(base, "http:", "https:", 1)+"/private/*", later, time.Time{}, ""))), 403, AccessDenied, "does not match"},
		{"policy of another URL swapped in", setQuery(t, custom, "Policy", policyParam(otherPolicy)), 403, AccessDenied, "signature"},
		{"tampered policy", setQuery(t, custom, "Policy", EncodeBase64([]byte(`{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":4102444800}}}]}`))), 403, AccessDenied, "signature"},
		{"policy not base64", setQuery(t, custom, "Policy", "%21%21"), 403, MalformedPolicy, ""},
		{"policy not JSON", setQuery(t, custom, "Policy", EncodeBase64([]byte("not json"))), 403, MalformedPolicy, ""},
		{"policy without DateLessThan", setQuery(t, custom, "Policy", EncodeBase64([]byte(`{"Statement":[{"Resource":"*","Condition":{}}]}`))), 403, MalformedPolicy, "DateLessThan"},
		{"neither Expires nor Policy", setQuery(t, canned, "Expires", "\x00"), 403, MalformedPolicy, ""},
		{"unsupported Hash-Algorithm", canned + "&Hash-Algorithm=MD5", 403, AccessDenied, "hash algorithm"},
		{"SHA-256 signature claimed as SHA-1", setQuery(t, sha256URL, "Hash-Algorithm", "\x00"), 403, AccessDenied, "signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := get(t, srv.Client(), tc.url, nil)
			if got.status != tc.status {
				t.Fatalf("status = %d, want %d (body %q, reason %q)", got.status, tc.status, got.body, got.reason)
			}
			if tc.status == 200 {
				if got.body != "ok" {
					t.Errorf("body = %q", got.body)
				}
				return
			}
			if want := xmlError(tc.code); got.body != want {
				t.Errorf("body = %q, want %q (reason %q)", got.body, want, got.reason)
			}
			if !strings.Contains(got.reason, tc.reason) {
				t.Errorf("reason = %q, want it to mention %q", got.reason, tc.reason)
			}
		})
	}
}

func TestSignedCookies(t *testing.T) {
	tk := loadTestKeys(t)
	v := &Verifier{Keys: tk.keys}
	srv := checkServer(t, v, false)
	base := srv.URL
	later, earlier := time.Now().Add(time.Hour), time.Now().Add(-time.Hour)

	cookieSigner := sign.NewCookieSigner(keyA, tk.a)
	must := func(c []*http.Cookie, err error) []*http.Cookie {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A canned-policy cookie set as CloudFront documents it:
	// CloudFront-Expires, CloudFront-Signature, CloudFront-Key-Pair-Id.
	cannedCookies := func(key *rsa.PrivateKey, id, resource string, expires time.Time) []*http.Cookie {
		sig, _, err := sign.NewCannedPolicy(resource, expires).Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		return []*http.Cookie{
			{Name: CookieExpires, Value: strconv.FormatInt(expires.Unix(), 10)},
			{Name: CookieSignature, Value: string(sig)},
			{Name: CookieKeyPairID, Value: id},
		}
	}
	without := func(cs []*http.Cookie, name string) []*http.Cookie {
		var out []*http.Cookie
		for _, c := range cs {
			if c.Name != name {
				out = append(out, c)
			}
		}
		return out
	}
	replace := func(cs []*http.Cookie, name, value string) []*http.Cookie {
		out := append(without(cs, name), &http.Cookie{Name: name, Value: value})
		return out
	}
	custom := must(cookieSigner.SignWithPolicy(customPolicy(base+"/private/*", later, time.Time{}, "")))
	sdkCanned := must(cookieSigner.Sign(base+"/private/a.jpg", later))
	canned := cannedCookies(tk.a, keyA, base+"/private/a.jpg", later)
	cookieValue := func(cs []*http.Cookie, name string) string {
		for _, c := range cs {
			if c.Name == name {
				return c.Value
			}
		}
		return ""
	}

	tests := []struct {
		name    string
		url     string
		cookies []*http.Cookie
		status  int
		code    string
	}{
		{"custom policy cookies from the SDK", base + "/private/a.jpg", custom, 200, ""},
		{"custom policy cookies, other object under the wildcard", base + "/private/x/y.png?v=2", custom, 200, ""},
		{"SDK canned cookies (CloudFront-Policy)", base + "/private/a.jpg", sdkCanned, 200, ""},
		{"canned cookies (CloudFront-Expires)", base + "/private/a.jpg", canned, 200, ""},
		{"canned cookies and other cookies", base + "/private/a.jpg", append([]*http.Cookie{{Name: "session", Value: "abc"}}, canned...), 200, ""},
		{"no cookies", base + "/private/a.jpg", nil, 403, MissingKey},
		{"no CloudFront-Key-Pair-Id", base + "/private/a.jpg", without(custom, CookieKeyPairID), 403, MissingKey},
		{"unknown key pair", base + "/private/a.jpg", replace(custom, CookieKeyPairID, "KNOPE"), 403, InvalidKey},
		{"untrusted key group", base + "/private/a.jpg", must(sign.NewCookieSigner(keyB, tk.b).SignWithPolicy(customPolicy(base+"/private/*", later, time.Time{}, ""))), 403, InvalidKey},
		{"no CloudFront-Signature", base + "/private/a.jpg", without(custom, CookieSignature), 403, MalformedSignature},
		{"tampered signature", base + "/private/a.jpg", replace(custom, CookieSignature, flip(cookieValue(custom, CookieSignature))), 403, AccessDenied},
		{"tampered policy", base + "/private/a.jpg", replace(custom, CookiePolicy, EncodeBase64([]byte(`{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":4102444800}}}]}`))), 403, AccessDenied},
		{"malformed policy", base + "/private/a.jpg", replace(custom, CookiePolicy, "e30_"), 403, MalformedPolicy},
		{"tampered CloudFront-Expires", base + "/private/a.jpg", replace(canned, CookieExpires, strconv.FormatInt(later.Unix()+60, 10)), 403, AccessDenied},
		{"canned cookie used for another object", base + "/private/b.jpg", canned, 403, AccessDenied},
		{"expired canned cookies", base + "/private/a.jpg", cannedCookies(tk.a, keyA, base+"/private/a.jpg", earlier), 403, AccessDenied},
		{"expired custom cookies", base + "/private/a.jpg", must(cookieSigner.SignWithPolicy(customPolicy(base+"/private/*", earlier, time.Time{}, ""))), 403, AccessDenied},
		{"wrong IP", base + "/private/a.jpg", must(cookieSigner.SignWithPolicy(customPolicy(base+"/private/*", later, time.Time{}, "198.51.100.7/32"))), 403, AccessDenied},
		{"wrong resource", base + "/private/a.jpg", must(cookieSigner.SignWithPolicy(customPolicy(base+"/public/*", later, time.Time{}, ""))), 403, AccessDenied},
		// A signed URL wins over cookies: a bad URL signature is refused even
		// with good cookies.
		{"signed URL wins over good cookies", base + "/private/a.jpg?Expires=1&Signature=AAAA&Key-Pair-Id=" + keyA, custom, 403, AccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := get(t, srv.Client(), tc.url, tc.cookies)
			if got.status != tc.status {
				t.Fatalf("status = %d, want %d (body %q, reason %q)", got.status, tc.status, got.body, got.reason)
			}
			if tc.status == 403 {
				if want := xmlError(tc.code); got.body != want {
					t.Errorf("body = %q, want %q (reason %q)", got.body, want, got.reason)
				}
			}
		})
	}
}

func TestSignedURLOverTLS(t *testing.T) {
	tk := loadTestKeys(t)
	srv := checkServer(t, &Verifier{Keys: tk.keys}, true)
	later := time.Now().Add(time.Hour)
	signer := sign.NewURLSigner(keyA, tk.a)
	good, err := signer.Sign(srv.URL+"/private/a.jpg", later)
	if err != nil {
		t.Fatal(err)
	}
	// The same path signed for http:// does not verify over https://.
	plain, err := signer.Sign(strings.Replace(srv.URL, "https:", "http:", 1)+"/private/a.jpg", later)
	if err != nil {
		t.Fatal(err)
	}
	plain = strings.Replace(plain, "http:", "https:", 1)
	c := srv.Client()
	if got := get(t, c, good, nil); got.status != 200 {
		t.Errorf("https resource over https: status %d (%s)", got.status, got.reason)
	}
	if got := get(t, c, plain, nil); got.status != 403 || got.body != xmlError(AccessDenied) {
		t.Errorf("http resource over https: status %d body %q", got.status, got.body)
	}
}

func TestCheckDirect(t *testing.T) {
	tk := loadTestKeys(t)
	v := &Verifier{Keys: tk.keys}
	later := time.Now().Add(time.Hour)
	signer := sign.NewURLSigner(keyA, tk.a)
	v6, err := signer.SignWithPolicy("http://d111111abcdef8.cloudfront.net/private/a.jpg",
		customPolicy("http://d111111abcdef8.cloudfront.net/private/*", later, time.Time{}, "2001:db8::/32"))
	if err != nil {
		t.Fatal(err)
	}
	canned, err := signer.Sign("http://d111111abcdef8.cloudfront.net/private/a.jpg", later)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		url    string
		ip     string
		now    time.Time
		v      *Verifier
		b      *config.Behavior
		status int
	}{
		{"IPv6 viewer in the range", v6, "2001:db8::1", time.Now(), v, protected, 200},
		{"IPv6 viewer outside", v6, "2001:db9::1", time.Now(), v, protected, 403},
		{"unparsable viewer IP", v6, "", time.Now(), v, protected, 403},
		{"at DateLessThan exactly: expired", canned, "127.0.0.1", time.Unix(later.Unix(), 0), v, protected, 403},
		{"one second before DateLessThan", canned, "127.0.0.1", time.Unix(later.Unix()-1, 0), v, protected, 200},
		{"no keys configured", canned, "127.0.0.1", time.Now(), &Verifier{}, protected, 403},
		{"nil verifier", canned, "127.0.0.1", time.Now(), nil, protected, 403},
		{"behaviour trusts an unconfigured key group", canned, "127.0.0.1", time.Now(), v, &config.Behavior{TrustedKeyGroups: []string{"nope"}}, 403},
		{"behaviour without trusted signers", "http://d111111abcdef8.cloudfront.net/x", "127.0.0.1", time.Now(), nil, open, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.url, nil)
			d := tc.v.Check(r, tc.b, tc.ip, tc.now)
			status := 200
			if d != nil {
				status = d.Status
			}
			if status != tc.status {
				t.Errorf("status = %d, want %d (%v)", status, tc.status, d)
			}
		})
	}
}

func TestDenialBody(t *testing.T) {
	// CloudFront's MissingKey answer is 146 bytes of text/xml.
	d := deny(MissingKey, "")
	want := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>`
	if got := string(d.Body()); got != want || len(got) != 146 {
		t.Errorf("Body() = %q (%d bytes)", got, len(got))
	}
	if d.Status != http.StatusForbidden {
		t.Errorf("Status = %d", d.Status)
	}
}

func TestRequestURL(t *testing.T) {
	tests := []struct {
		target, host string
		want         string
	}{
		{"/a.jpg", "d1.cloudfront.net", "http://d1.cloudfront.net/a.jpg"},
		{"/a%20b.jpg?x=1&Expires=2&Signature=s&Key-Pair-Id=k", "d1.cloudfront.net", "http://d1.cloudfront.net/a%20b.jpg?x=1"},
		{"/a.jpg?Policy=p&Signature=s&Key-Pair-Id=k&Hash-Algorithm=SHA256", "127.0.0.1:8080", "http://127.0.0.1:8080/a.jpg"},
		{"/a.jpg?", "h", "http://h/a.jpg"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, tc.target, nil)
		r.Host = tc.host
		if got := RequestURL(r); got != tc.want {
			t.Errorf("RequestURL(%q) = %q, want %q", tc.target, got, tc.want)
		}
	}
}

func TestStripQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"color=red", "color=red"},
		{"color=red&size=medium&Expires=1767290400&Signature=abc~-_&Key-Pair-Id=K2JCJMDEHXQW5F", "color=red&size=medium"},
		{"Policy=eyJ&Signature=abc&Key-Pair-Id=K&color=red", "color=red"},
		{"a=1&Expires=1&Signature=s&Key-Pair-Id=k&Hash-Algorithm=SHA256&b=2", "a=1&b=2"},
		{"Expires=1&Signature=s&Key-Pair-Id=k", ""},
		{"x=%20y&Key%2DPair%2DId=k", "x=%20y"},
		{"expires=1&signature=2", "expires=1&signature=2"}, // names are case-sensitive
		{"a=1&&b", "a=1&&b"},
		{"Signature", ""},
	}
	for _, tc := range tests {
		if got := StripQuery(tc.in); got != tc.want {
			t.Errorf("StripQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStripCookies(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"session=abc", "session=abc"},
		{"CloudFront-Policy=p; CloudFront-Signature=s; CloudFront-Key-Pair-Id=k", ""},
		{"a=1; CloudFront-Expires=2; b=2; CloudFront-Hash-Algorithm=SHA256", "a=1; b=2"},
		{"CloudFront-Viewer=x; CloudFront-Signature=s", "CloudFront-Viewer=x"},
	}
	for _, tc := range tests {
		if got := StripCookies(tc.in); got != tc.want {
			t.Errorf("StripCookies(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	h := http.Header{"Cookie": {"CloudFront-Signature=s", "a=1; CloudFront-Key-Pair-Id=k"}}
	StripCookieHeader(h)
	if got := h["Cookie"]; len(got) != 1 || got[0] != "a=1" {
		t.Errorf("StripCookieHeader: Cookie = %q", got)
	}
	h = http.Header{"Cookie": {"CloudFront-Signature=s"}}
	StripCookieHeader(h)
	if _, ok := h["Cookie"]; ok {
		t.Errorf("StripCookieHeader left %q", h["Cookie"])
	}
}
