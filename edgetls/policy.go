package edgetls

import (
	"crypto/tls"
	"slices"
)

// Policy is one CloudFront security policy (ViewerCertificate's
// MinimumProtocolVersion) as crypto/tls can serve it: the lowest protocol
// version and the TLS 1.0–1.2 cipher suites it allows.
//
// The suites are those of CloudFront's table "Supported protocols and
// ciphers between viewers and CloudFront", in its order, less what
// crypto/tls cannot speak:
//   - SSLv3 itself (the SSLv3 policy accepts TLS 1.0 and later),
//   - RC4-MD5 (SSLv3 policy),
//   - ECDHE-ECDSA-AES256-SHA384 and ECDHE-RSA-AES256-SHA384 (the CBC-SHA384
//     suites of every policy up to TLSv1.2_2019).
//
// TLS 1.3 suites cannot be chosen in crypto/tls: every policy allows
// TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
// TLS_CHACHA20_POLY1305_SHA256, although TLSv1.3_2025 drops ChaCha20 at
// CloudFront. crypto/tls also picks the suite by its own preference order
// (AES-GCM first where the hardware has AES), not CloudFront's.
type Policy struct {
	Name         string
	MinVersion   uint16   // crypto/tls.VersionTLS10 … VersionTLS13
	CipherSuites []uint16 // TLS 1.0–1.2 suites; nil for TLS 1.3-only policies
}

// DefaultPolicy is the policy of a distribution that uses CloudFront's
// default certificate (or names none): CloudFront sets TLSv1 whatever
// MinimumProtocolVersion says (ViewerCertificate in the API reference).
const DefaultPolicy = "TLSv1"

// listenerPolicy is what the listener serves to names that belong to no
// distribution: TLS 1.2 and the AEAD suites, as before policies existed.
const listenerPolicy = "TLSv1.2_2021"

// Security policy columns of CloudFront's table, oldest first.
const (
	colSSLv3 = iota
	colTLSv1
	colTLSv1_2016
	colTLSv1_1_2016
	colTLSv1_2_2018
	colTLSv1_2_2019
	colTLSv1_2_2021
	colTLSv1_2_2025
	colTLSv1_3_2025
)

// policyColumns maps policy names to table columns and minimum versions.
var policyColumns = map[string]struct {
	col int
	min uint16
}{
	"SSLv3":        {colSSLv3, tls.VersionTLS10}, // SSLv3 is not in crypto/tls
	"TLSv1":        {colTLSv1, tls.VersionTLS10},
	"TLSv1_2016":   {colTLSv1_2016, tls.VersionTLS10},
	"TLSv1.1_2016": {colTLSv1_1_2016, tls.VersionTLS11},
	"TLSv1.2_2018": {colTLSv1_2_2018, tls.VersionTLS12},
	"TLSv1.2_2019": {colTLSv1_2_2019, tls.VersionTLS12},
	"TLSv1.2_2021": {colTLSv1_2_2021, tls.VersionTLS12},
	"TLSv1.2_2025": {colTLSv1_2_2025, tls.VersionTLS12},
	"TLSv1.3_2025": {colTLSv1_3_2025, tls.VersionTLS13},
}

// cipherTable is CloudFront's table, one row per suite in its listed order:
// the suite is allowed by every policy column below last (exclusive).
// ECDSA rows come first, then RSA, as in the table.
var cipherTable = []struct {
	suite uint16
	last  int // first column that no longer allows the suite
}{
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, colTLSv1_3_2025},       // ECDHE-ECDSA-AES128-GCM-SHA256
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, colTLSv1_2_2021},       // ECDHE-ECDSA-AES128-SHA256
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, colTLSv1_2_2018},          // ECDHE-ECDSA-AES128-SHA
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, colTLSv1_3_2025},       // ECDHE-ECDSA-AES256-GCM-SHA384
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, colTLSv1_2_2025}, // ECDHE-ECDSA-CHACHA20-POLY1305
	// ECDHE-ECDSA-AES256-SHA384 (to TLSv1.2_2019): not in crypto/tls.
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, colTLSv1_2_2018},        // ECDHE-ECDSA-AES256-SHA
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, colTLSv1_3_2025},       // ECDHE-RSA-AES128-GCM-SHA256
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, colTLSv1_2_2021},       // ECDHE-RSA-AES128-SHA256
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, colTLSv1_2_2018},          // ECDHE-RSA-AES128-SHA
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, colTLSv1_3_2025},       // ECDHE-RSA-AES256-GCM-SHA384
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, colTLSv1_2_2025}, // ECDHE-RSA-CHACHA20-POLY1305
	// ECDHE-RSA-AES256-SHA384 (to TLSv1.2_2019): not in crypto/tls.
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, colTLSv1_2_2018}, // ECDHE-RSA-AES256-SHA
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, colTLSv1_2_2019},    // AES128-GCM-SHA256
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, colTLSv1_2_2019},    // AES256-GCM-SHA384
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, colTLSv1_2_2019},    // AES128-SHA256
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, colTLSv1_2_2018},       // AES256-SHA
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, colTLSv1_2_2018},       // AES128-SHA
	{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, colTLSv1_2016},        // DES-CBC3-SHA
	// RC4-MD5 (SSLv3 only): not in crypto/tls.
}

// LookupPolicy returns the security policy called name
// (SSLv3, TLSv1, TLSv1_2016, TLSv1.1_2016, TLSv1.2_2018, TLSv1.2_2019,
// TLSv1.2_2021, TLSv1.2_2025, TLSv1.3_2025).
func LookupPolicy(name string) (Policy, bool) {
	pc, ok := policyColumns[name]
	if !ok {
		return Policy{}, false
	}
	p := Policy{Name: name, MinVersion: pc.min}
	if pc.min < tls.VersionTLS13 {
		for _, row := range cipherTable {
			if pc.col < row.last {
				p.CipherSuites = append(p.CipherSuites, row.suite)
			}
		}
	}
	return p, true
}

// h2Suites are the TLS 1.2 suites HTTP/2 accepts (RFC 9113 §9.2.2: ephemeral
// key exchange and an AEAD cipher).
var h2Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// h2Capable reports whether a connection from hello under policy p can carry
// HTTP/2: it will be TLS 1.3, or TLS 1.2 with a suite HTTP/2 accepts. A
// viewer that cannot is offered HTTP/1.1 only, as CloudFront does for
// viewers without TLS 1.2 ("viewers must support TLSv1.2 or later").
func (p *Policy) h2Capable(hello *tls.ClientHelloInfo) bool {
	v := negotiatedVersion(p.MinVersion, hello.SupportedVersions)
	switch {
	case v >= tls.VersionTLS13:
		return true
	case v < tls.VersionTLS12:
		return false
	}
	for _, s := range hello.CipherSuites {
		if slices.Contains(h2Suites, s) && slices.Contains(p.CipherSuites, s) {
			return true
		}
	}
	return false
}

// negotiatedVersion is the version crypto/tls will choose: the highest the
// client offers from min up to TLS 1.3 (0 when there is none).
func negotiatedVersion(min uint16, offered []uint16) uint16 {
	var v uint16
	for _, o := range offered {
		if o >= min && o <= tls.VersionTLS13 && o > v {
			v = o
		}
	}
	return v
}
