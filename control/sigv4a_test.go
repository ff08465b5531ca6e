package control

import (
	"slices"
	"strings"
	"testing"
)

func TestParseAuthorizationV4A(t *testing.T) {
	const sig = "30440220" + "e1b3f0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9" + "0220" + "34a1b2c3d4e5f60718293a4b5c6d7e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"SDK form", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=" + sig, true},
		{"SigV4 header", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=" + sig[:64], false},
		{"region in the scope", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/us-east-1/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=" + sig, false},
		{"odd hex", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=" + sig[1:], false},
		{"upper-case hex", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=" + strings.ToUpper(sig), false},
		{"signature too long", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=" + sig + "00000000000000", false},
		{"host not signed", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=x-amz-date, Signature=" + sig, false},
		{"empty key", "AWS4-ECDSA-P256-SHA256 Credential=/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=" + sig, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseAuthorizationAs(tc.header, sigV4AAlgorithm)
			if (err == nil) != tc.ok {
				t.Fatalf("parseAuthorizationAs = %+v, %v; want ok=%v", a, err, tc.ok)
			}
			if tc.ok && (a.AccessKeyID != "AKID" || a.Region != "" || a.Service != "cloudfront-keyvaluestore" || a.scope() != "20260101/cloudfront-keyvaluestore/aws4_request") {
				t.Errorf("parsed %+v", a)
			}
		})
	}
}

// TestDeriveV4AKeyStable: the derivation is a function of the key pair
// (the real SDK client's signatures verifying is TestKeyValueStoreSigV4A).
func TestDeriveV4AKeyStable(t *testing.T) {
	a, err := deriveV4AKey("AKID", "secret")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := deriveV4AKey("AKID", "secret")
	c, _ := deriveV4AKey("AKID", "other")
	if !a.Equal(b) || a.Equal(c) {
		t.Error("the derived key is not a function of the key pair")
	}
}

// FuzzParseAuthorizationV4A feeds arbitrary SigV4A Authorization headers to
// the parser: it must not panic, and what it accepts must be well formed.
func FuzzParseAuthorizationV4A(f *testing.F) {
	f.Add("AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host;x-amz-date, Signature=3045022100aa")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorizationAs(h, sigV4AAlgorithm)
		if err != nil {
			return
		}
		if a.AccessKeyID == "" || a.Region != "" || a.Service == "" || !isDate(a.Date) || len(a.Signature) > 2*maxDERSignature {
			t.Fatalf("accepted an incomplete header %q: %+v", h, a)
		}
		if !slices.IsSorted(a.SignedHeaders) || !slices.Contains(a.SignedHeaders, "host") {
			t.Fatalf("accepted signed headers %v", a.SignedHeaders)
		}
		again := sigV4AAlgorithm + " Credential=" + a.AccessKeyID + "/" + a.scope() + ", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := parseAuthorizationAs(again, sigV4AAlgorithm)
		if err != nil || b.scope() != a.scope() || b.AccessKeyID != a.AccessKeyID || !slices.Equal(b.SignedHeaders, a.SignedHeaders) {
			t.Fatalf("re-rendered %q: %+v, %v", again, b, err)
		}
	})
}

// FuzzParseUpdateKeys feeds arbitrary UpdateKeys bodies to the parser: it
// must not panic, and every key and value it accepts is within
// CloudFront's limits.
func FuzzParseUpdateKeys(f *testing.F) {
	f.Add(`{"Puts":[{"Key":"a","Value":"1"}],"Deletes":[{"Key":"b"}]}`)
	f.Add(`{"Puts":[{"Key":"","Value":"1"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		puts, deletes, e := parseUpdateKeys([]byte(body))
		if e != nil {
			if e.Code != "ValidationException" || e.Status != 400 {
				t.Fatalf("error %+v", e)
			}
			return
		}
		for _, p := range puts {
			if len(p[0]) == 0 || len(p[0]) > maxKeyBytes || len(p[1]) > maxValueBytes {
				t.Fatalf("accepted %q=%q", p[0], p[1])
			}
		}
		for _, k := range deletes {
			if len(k) == 0 || len(k) > maxKeyBytes {
				t.Fatalf("accepted delete %q", k)
			}
		}
	})
}
