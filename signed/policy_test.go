package signed

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Policy // nil: malformed
	}{
		{"canned statement", `{"Statement":[{"Resource":"http://d1.cloudfront.net/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}`,
			&Policy{Resource: "http://d1.cloudfront.net/a.jpg", DateLessThan: 1357034400}},
		{"every condition, with whitespace", `{ "Statement": [ { "Resource":"http://d1.cloudfront.net/training/*",
			"Condition":{ "IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}, "DateGreaterThan":{"AWS:EpochTime":1357034400},
			"DateLessThan":{"AWS:EpochTime":1357120800} } } ] }`,
			&Policy{Resource: "http://d1.cloudfront.net/training/*", DateLessThan: 1357120800, DateGreaterThan: 1357034400, SourceIP: netip.MustParsePrefix("192.0.2.0/24")}},
		{"no Resource", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":10}}}]}`, &Policy{DateLessThan: 10}},
		{"IPv6 range", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}`,
			&Policy{Resource: "*", DateLessThan: 10, SourceIP: netip.MustParsePrefix("2001:db8::/32")}},
		{"single address", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10},"IpAddress":{"AWS:SourceIp":"192.0.2.7"}}}]}`,
			&Policy{Resource: "*", DateLessThan: 10, SourceIP: netip.MustParsePrefix("192.0.2.7/32")}},
		{"host bits masked", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10},"IpAddress":{"AWS:SourceIp":"192.0.2.7/24"}}}]}`,
			&Policy{Resource: "*", DateLessThan: 10, SourceIP: netip.MustParsePrefix("192.0.2.0/24")}},

		{"not JSON", `nope`, nil},
		{"empty", ``, nil},
		{"null", `null`, nil},
		{"no Statement", `{}`, nil},
		{"Statement not a list", `{"Statement":{}}`, nil},
		{"two statements", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":10}}},{"Condition":{"DateLessThan":{"AWS:EpochTime":10}}}]}`, nil},
		{"no Condition", `{"Statement":[{"Resource":"*"}]}`, nil},
		{"no DateLessThan", `{"Statement":[{"Resource":"*","Condition":{"DateGreaterThan":{"AWS:EpochTime":10}}}]}`, nil},
		{"quoted epoch time", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":"10"}}}]}`, nil},
		{"fractional epoch time", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":1.5}}}]}`, nil},
		{"negative epoch time", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}`, nil},
		{"lower-case name", `{"statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10}}}]}`, nil},
		{"unknown condition", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10},"NotIpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}`, nil},
		{"bad CIDR", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10},"IpAddress":{"AWS:SourceIp":"192.0.2.0/33"}}}]}`, nil},
		{"empty Resource", `{"Statement":[{"Resource":"","Condition":{"DateLessThan":{"AWS:EpochTime":10}}}]}`, nil},
		{"trailing data", `{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":10}}}]}{}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePolicy([]byte(tc.in))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("ParsePolicy = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tc.want {
				t.Errorf("ParsePolicy = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, url string
		want         bool
	}{
		{"http://d1.net/a.jpg", "http://d1.net/a.jpg", true},
		{"http://d1.net/a.jpg", "http://d1.net/A.jpg", false},
		{"http://d1.net/*game_download.zip*", "http://d1.net/game_download.zip", true},
		{"http://d1.net/*game_download.zip*", "http://d1.net/example_game_download.zip?license=yes", true},
		{"http://d1.net/*game_download.zip*", "http://d1.net/game.zip", false},
		{"http://d1.net/training/*", "http://d1.net/training/a/b/c.pdf?x=1", true},
		{"http://d1.net/training/*", "http://d1.net/other/c.pdf", false},
		{"http://*", "http://d1.net/anything", true},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"http*://d1.net/a", "https://d1.net/a", true},
		{"http*://d1.net/a", "http://d1.net/a", true},
		{"http://d1.net/?.jpg", "http://d1.net/a.jpg", true},
		{"http://d1.net/?.jpg", "http://d1.net/ab.jpg", false},
		{"http://d1.net/?.jpg", "http://d1.net/.jpg", false},
		{"a*b*c*d", "aXbYcZd", true},
		{"a*b*c*d", "aXbYcZ", false},
		{"**a**", "xxa", true},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false}, // must not blow up
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.url); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.url, got, tc.want)
		}
	}
}

func TestBase64(t *testing.T) {
	for _, in := range [][]byte{{}, {0xfb}, {0xfb, 0xff}, {0xfb, 0xff, 0xbf}, []byte(`{"Statement":[]}`)} {
		enc := EncodeBase64(in)
		if strings.ContainsAny(enc, "+=/") {
			t.Errorf("EncodeBase64(%x) = %q has URL-unsafe characters", in, enc)
		}
		got, err := DecodeBase64(enc)
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("DecodeBase64(%q) = %x, %v; want %x", enc, got, err, in)
		}
		// Without its padding it decodes too.
		if got, err := DecodeBase64(strings.TrimRight(enc, "_")); err != nil || !bytes.Equal(got, in) {
			t.Errorf("DecodeBase64 unpadded(%q) = %x, %v", enc, got, err)
		}
	}
	for _, bad := range []string{"!!!", "a", "ab=c", "a b"} {
		if _, err := DecodeBase64(bad); err == nil {
			t.Errorf("DecodeBase64(%q): no error", bad)
		}
	}
}

// TestCannedPolicyIsTheSDKs checks that the canned statement rebuilt for
// verification is byte for byte what the AWS SDK signs.
func TestCannedPolicyIsTheSDKs(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024) // size does not matter here
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(1767290400, 0)
	for _, resource := range []string{
		"https://d111111abcdef8.cloudfront.net/image.jpg?color=red&size=medium",
		"http://127.0.0.1:8080/a%20b/<c>.jpg?q=\"x\"&r=\\",
		"https://example.com/",
	} {
		_, b64, err := sign.NewCannedPolicy(resource, exp).Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		sdk, err := DecodeBase64(string(b64))
		if err != nil {
			t.Fatal(err)
		}
		if got := CannedPolicy(resource, exp.Unix()); !bytes.Equal(got, sdk) {
			t.Errorf("CannedPolicy(%q) =\n%s\nthe SDK signs\n%s", resource, got, sdk)
		}
	}
}

// FuzzPolicy: decoding a policy parameter (base64, then JSON) never panics,
// and what parses is a policy with an expiry.
func FuzzPolicy(f *testing.F) {
	f.Add(EncodeBase64([]byte(`{"Statement":[{"Resource":"http://d1.net/*","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}`)))
	f.Add(EncodeBase64([]byte(`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"IpAddress":{"AWS:SourceIp":"::1/128"}}}]}`)))
	f.Add("eyJTdGF0ZW1lbnQiOltdfQ__")
	f.Add("~~~~")
	f.Add("")
	f.Fuzz(func(t *testing.T, param string) {
		raw, err := DecodeBase64(param)
		if err != nil {
			return
		}
		p, err := ParsePolicy(raw)
		if err != nil {
			return
		}
		if p.DateLessThan < 0 || p.DateGreaterThan < 0 {
			t.Fatalf("negative times in %+v", p)
		}
		_ = Match(p.Resource, "http://d1.net/a.jpg")
	})
}

// FuzzCheck: whatever query string and Cookie header a viewer sends, Check
// never panics and refuses it (nothing is signed with a configured key).
func FuzzCheck(f *testing.F) {
	tk := loadTestKeys(f)
	v := &Verifier{Keys: tk.keys}
	f.Add("Expires=1767290400&Signature=nitfHRCrtziwO2HwPfWw~yYDhUF5EwRunQA-j19DzZrvDh6hQ73lDx~-ar3UocvvRQVw6EkC~GdpGQyyOSKQim-TxAnW7d8F5Kkai9HVx0FIu-5jcQb0UEmatEXAMPLE3ReXySpLSMj0yCd3ZAB4UcBCAqEijkytL6f3fVYNGQI6&Key-Pair-Id="+keyA, "")
	f.Add("Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Signature=AAAA&Key-Pair-Id="+keyA+"&Hash-Algorithm=SHA256", "")
	f.Add("", "CloudFront-Policy=e30_; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id="+keyEC)
	f.Add("", "CloudFront-Expires=99999999999999999999; CloudFront-Signature=%%%; CloudFront-Key-Pair-Id="+keyPairC)
	f.Add("a=%zz&Key-Pair-Id", "CloudFront-Key-Pair-Id=\"x\"")
	f.Fuzz(func(t *testing.T, query, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "http://d1.cloudfront.net/private/a.jpg", nil)
		r.URL.RawQuery = query
		r.RequestURI = "/private/a.jpg?" + query
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		for _, b := range []*Verifier{v, nil} {
			d := b.Check(r, protected, "127.0.0.1", time.Unix(1700000000, 0))
			if d == nil {
				t.Fatalf("query %q, cookie %q: allowed without a valid signature", query, cookie)
			}
			if d.Status != http.StatusForbidden || len(d.Body()) == 0 {
				t.Fatalf("bad denial %+v", d)
			}
		}
		_ = StripQuery(query)
		_ = StripCookies(cookie)
	})
}
