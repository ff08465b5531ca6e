package config

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"strings"
)

// This file derives the identifiers CloudFront would have assigned: a
// distribution ID, its *.cloudfront.net domain name and a config ETag, all
// stable functions of their input.

func hashChars(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:n] // A-Z and 2-7
}

// DeriveDistributionID returns the default distribution ID for seed: "E"
// and 13 upper-case letters and digits, like E2QWRUHAPOMQZL.
func DeriveDistributionID(seed string) string { return "E" + hashChars("id:"+seed, 13) }

// DeriveDomainName returns the default domain name of a distribution: "d",
// 14 lower-case letters and digits and ".cloudfront.net".
func DeriveDomainName(id string) string {
	return "d" + strings.ToLower(hashChars("domain:"+id, 14)) + ".cloudfront.net"
}

// configETag returns a stable ETag of a DistributionConfig: "E" and 13
// upper-case letters and digits of a hash of its canonical JSON.
func configETag(dc *DistributionConfig) string {
	b, err := json.Marshal(dc)
	if err != nil { // cannot happen: the type has only plain fields
		panic("config: marshal DistributionConfig: " + err.Error())
	}
	return "E" + hashChars("etag:"+string(b), 13)
}
