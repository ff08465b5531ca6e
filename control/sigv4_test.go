package control

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseAuthorization(t *testing.T) {
	const sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"SDK form", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig, true},
		{"any order, no blanks", "AWS4-HMAC-SHA256 Signature=" + sig + ",SignedHeaders=host,Credential=AKID/20260101/us-east-1/cloudfront/aws4_request", true},
		{"other algorithm", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=" + sig, false},
		{"SigV2", "AWS AKID:c2lnbmF0dXJl", false},
		{"short scope", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/aws4_request, SignedHeaders=host, Signature=" + sig, false},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AKID/2026-01-01/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=" + sig, false},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=x-amz-date, Signature=" + sig, false},
		{"unsorted headers", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + sig, false},
		{"upper-case header", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=Host, Signature=" + sig, false},
		{"short signature", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=abc", false},
		{"missing signature", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host", false},
		{"repeated credential", "AWS4-HMAC-SHA256 Credential=A/20260101/r/s/aws4_request, Credential=A/20260101/r/s/aws4_request, SignedHeaders=host, Signature=" + sig, false},
		{"unknown parameter", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=" + sig + ", Extra=1", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseAuthorization(tc.header)
			if (err == nil) != tc.ok {
				t.Fatalf("parseAuthorization = %+v, %v; want ok=%v", a, err, tc.ok)
			}
			if tc.ok && (a.AccessKeyID != "AKID" || a.Region != "us-east-1" || a.Service != "cloudfront" || a.Signature != sig) {
				t.Errorf("parsed %+v", a)
			}
		})
	}
}

// TestSignatureVector checks the signer against the "get-vanilla" case of
// AWS's published Signature Version 4 test suite.
func TestSignatureVector(t *testing.T) {
	r, err := http.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	a, err := parseAuthorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	if err != nil {
		t.Fatal(err)
	}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := signature(r, a, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z", emptyHash); got != a.Signature {
		t.Errorf("signature = %s, want %s", got, a.Signature)
	}
	// verifySignature also checks time and service.
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	if err := verifySignature(r, a, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", emptyHash, now); err == nil || !strings.Contains(err.Error(), "service") {
		t.Errorf("a scope for another service: %v", err)
	}
	a.Service = signingService
	if err := verifySignature(r, a, "x", emptyHash, now.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an hour of clock skew: %v", err)
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"MaxItems=5&Marker=I1", "Marker=I1&MaxItems=5"},
		{"b=2&a=2&a=1", "a=1&a=2&b=2"},
		{"x=a%20b+c&y=%7E~", "x=a%20b%20c&y=~~"},
		{"flag", "flag="},
	}
	for _, tc := range tests {
		if got := canonicalQuery(tc.raw); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/a.txt", "/a.txt", true},
		{"/images/*", "/images/*", true},
		{"/*", "/*", true},
		{"/café.txt", "/caf%C3%A9.txt", true},
		{"/caf%c3%a9.txt", "/caf%C3%A9.txt", true},
		{"/a b", "/a%20b", true},
		{"/100%", "/100%25", true},
		{"/a{b}|c^", "/a%7Bb%7D%7Cc%5E", true},
		{"/a.jpg?v=1", "/a.jpg?v=1", true},
		{"/a~b(c)", "/a~b(c)", true},
		{"a.txt", "", false},
		{"", "", false},
		{"/a*b", "", false},
		{"/a**", "", false},
		{"/" + strings.Repeat("a", MaxPathLength), "", false},
	}
	for _, tc := range tests {
		got, err := normalizePath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("normalizePath(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseAuthorization feeds arbitrary Authorization headers to the
// parser: it must not panic, and what it accepts must be well formed.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if a.AccessKeyID == "" || a.Region == "" || a.Service == "" || !isDate(a.Date) || len(a.Signature) != 64 {
			t.Fatalf("accepted an incomplete header %q: %+v", h, a)
		}
		if !slices.IsSorted(a.SignedHeaders) || !slices.Contains(a.SignedHeaders, "host") {
			t.Fatalf("accepted signed headers %v", a.SignedHeaders)
		}
		// What it accepts, rendered again, parses to the same.
		again := sigV4Algorithm + " Credential=" + a.AccessKeyID + "/" + a.scope() + ", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := parseAuthorization(again)
		if err != nil || b.scope() != a.scope() || b.AccessKeyID != a.AccessKeyID || !slices.Equal(b.SignedHeaders, a.SignedHeaders) {
			t.Fatalf("re-rendered %q: %+v, %v", again, b, err)
		}
	})
}
