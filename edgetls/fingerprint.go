package edgetls

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Fingerprint is what CloudFront-Viewer-JA3-Fingerprint and
// CloudFront-Viewer-JA4-Fingerprint tell of a viewer's TLS ClientHello
// (Developer Guide, adding-cloudfront-headers: "This header relies on the
// viewer's SSL/TLS Client Hello packet and is only present for HTTPS
// requests").
//
// Both are computed from crypto/tls's ClientHelloInfo, which since Go 1.24
// lists the ClientHello's extensions in wire order — all JA3 and JA4 need —
// so no raw ClientHello is parsed. One field is inferred: JA3's
// SSLVersion, the ClientHello's legacy_version, which ClientHelloInfo does
// not carry; it is 771 (TLS 1.2) when the client sends supported_versions
// (RFC 8446 §4.1.2 fixes legacy_version to 0x0303 then), else the version
// the client offered.
type Fingerprint struct {
	JA3 string // MD5 of the JA3 string, 32 hex digits (github.com/salesforce/ja3)
	JA4 string // e.g. t13d1516h2_8daaf6152771_b186095e22b6 (FoxIO JA4)
}

// helloKey is the context key of a connection's *helloSlot.
type helloKey struct{}

// helloSlot holds one connection's fingerprint, set during its handshake.
type helloSlot struct{ fp atomic.Pointer[Fingerprint] }

// CaptureHello returns ctx with room for the fingerprint of the TLS
// connection it belongs to. Use it in the https listener's
// http.Server.ConnContext: the handshake (whose context derives from it)
// fills it in through Config's GetConfigForClient, and every request on the
// connection reads it with Fingerprints.
func CaptureHello(ctx context.Context) context.Context {
	return context.WithValue(ctx, helloKey{}, &helloSlot{})
}

// Fingerprints returns the fingerprint of the TLS connection a request's ctx
// belongs to; false for plain HTTP, or when ctx was not made by CaptureHello.
func Fingerprints(ctx context.Context) (Fingerprint, bool) {
	s, _ := ctx.Value(helloKey{}).(*helloSlot)
	if s == nil {
		return Fingerprint{}, false
	}
	fp := s.fp.Load()
	if fp == nil {
		return Fingerprint{}, false
	}
	return *fp, true
}

// recordHello stores hello's fingerprint in its connection's slot, if the
// handshake's context has one.
func recordHello(hello *tls.ClientHelloInfo) {
	ctx := hello.Context()
	if ctx == nil {
		return
	}
	if s, _ := ctx.Value(helloKey{}).(*helloSlot); s != nil {
		fp := FingerprintOf(hello)
		s.fp.Store(&fp)
	}
}

// FingerprintOf computes the JA3 and JA4 fingerprints of a ClientHello
// received over TCP.
func FingerprintOf(hello *tls.ClientHelloInfo) Fingerprint {
	ja3 := md5.Sum([]byte(JA3String(hello)))
	return Fingerprint{JA3: hex.EncodeToString(ja3[:]), JA4: JA4(hello, false)}
}

// TLS extension numbers JA3 and JA4 look at.
const (
	extServerName        = 0x0000
	extALPN              = 0x0010
	extSupportedVersions = 0x002b
)

// isGREASE reports whether v is a GREASE value (RFC 8701): 0x?a?a with both
// bytes equal. JA3 and JA4 ignore them everywhere.
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// JA3String is the JA3 string of a ClientHello, before hashing:
// SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats,
// each list dash-separated decimal in ClientHello order, GREASE removed.
func JA3String(hello *tls.ClientHelloInfo) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(legacyVersion(hello))))
	b.WriteByte(',')
	writeDecimal(&b, hello.CipherSuites)
	b.WriteByte(',')
	writeDecimal(&b, hello.Extensions)
	b.WriteByte(',')
	curves := make([]uint16, len(hello.SupportedCurves))
	for i, c := range hello.SupportedCurves {
		curves[i] = uint16(c)
	}
	writeDecimal(&b, curves)
	b.WriteByte(',')
	points := make([]uint16, len(hello.SupportedPoints))
	for i, p := range hello.SupportedPoints {
		points[i] = uint16(p)
	}
	writeDecimal(&b, points)
	return b.String()
}

func writeDecimal(b *strings.Builder, vs []uint16) {
	first := true
	for _, v := range vs {
		if isGREASE(v) {
			continue
		}
		if !first {
			b.WriteByte('-')
		}
		first = false
		b.WriteString(strconv.Itoa(int(v)))
	}
}

// legacyVersion is the ClientHello's legacy_version, as far as
// ClientHelloInfo tells it (see Fingerprint).
func legacyVersion(hello *tls.ClientHelloInfo) uint16 {
	if slices.Contains(hello.Extensions, extSupportedVersions) {
		return tls.VersionTLS12
	}
	var top uint16
	for _, v := range hello.SupportedVersions {
		if !isGREASE(v) && v > top {
			top = v
		}
	}
	return top
}

// JA4 is the JA4 fingerprint of a ClientHello (FoxIO's JA4 specification):
//
//	(t|q)(version)(d|i)(cipher count)(extension count)(ALPN first+last char)
//	_(sha256 of the sorted ciphers, 12 hex)
//	_(sha256 of the sorted extensions without SNI and ALPN, "_", the
//	  signature algorithms in order, 12 hex)
//
// with GREASE values ignored everywhere and counts capped at 99.
func JA4(hello *tls.ClientHelloInfo, quic bool) string {
	var b strings.Builder
	if quic {
		b.WriteByte('q')
	} else {
		b.WriteByte('t')
	}
	b.WriteString(ja4Version(hello))
	if slices.Contains(hello.Extensions, extServerName) {
		b.WriteByte('d')
	} else {
		b.WriteByte('i')
	}
	ciphers := withoutGREASE(hello.CipherSuites, nil)
	exts := withoutGREASE(hello.Extensions, nil)
	b.WriteString(count2(len(ciphers)))
	b.WriteString(count2(len(exts)))
	b.WriteString(alpnChars(hello.SupportedProtos))

	b.WriteByte('_')
	slices.Sort(ciphers)
	b.WriteString(hash12(hexList(ciphers), len(ciphers) == 0))

	b.WriteByte('_')
	sorted := withoutGREASE(hello.Extensions, func(v uint16) bool { return v == extServerName || v == extALPN })
	slices.Sort(sorted)
	s := hexList(sorted)
	sigs := make([]uint16, 0, len(hello.SignatureSchemes))
	for _, sc := range hello.SignatureSchemes {
		sigs = append(sigs, uint16(sc))
	}
	if sigs = withoutGREASE(sigs, nil); len(sigs) > 0 {
		s += "_" + hexList(sigs)
	}
	b.WriteString(hash12(s, len(exts) == 0))
	return b.String()
}

// ja4Version is the highest version in supported_versions, else the
// offered version, as two characters.
func ja4Version(hello *tls.ClientHelloInfo) string {
	var top uint16
	for _, v := range hello.SupportedVersions {
		if !isGREASE(v) && v > top {
			top = v
		}
	}
	switch top {
	case tls.VersionTLS13:
		return "13"
	case tls.VersionTLS12:
		return "12"
	case tls.VersionTLS11:
		return "11"
	case tls.VersionTLS10:
		return "10"
	case 0x0300:
		return "s3"
	}
	return "00"
}

// alpnChars is the first and last character of the first ALPN value ("00"
// for none); for a value that starts or ends with a byte that is not an
// ASCII letter or digit, the first and last hex digits of the value.
func alpnChars(protos []string) string {
	if len(protos) == 0 || protos[0] == "" {
		return "00"
	}
	p := protos[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte{first, last})
	return string([]byte{h[0], h[3]})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// withoutGREASE copies vs without GREASE values and those drop reports.
func withoutGREASE(vs []uint16, drop func(uint16) bool) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !isGREASE(v) && (drop == nil || !drop(v)) {
			out = append(out, v)
		}
	}
	return out
}

// count2 is n as two decimal digits, capped at 99.
func count2(n int) string {
	n = min(n, 99)
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

// hexList renders vs as comma-separated four-digit lower-case hex.
func hexList(vs []uint16) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(hex.EncodeToString([]byte{byte(v >> 8), byte(v)}))
	}
	return b.String()
}

// hash12 is the first 12 hex digits of s's SHA-256; twelve zeros when empty.
func hash12(s string, empty bool) string {
	if empty {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
