package geo

import (
	"context"
	"crypto/tls"
	"net/http"
	"strconv"
	"strings"

	"github.com/edgefront/edgefront/edgetls"
)

// The CloudFront request headers computed here ("Add CloudFront request
// headers" in the Developer Guide), in canonical form.
const (
	HeaderForwardedProto   = "Cloudfront-Forwarded-Proto"
	HeaderViewerAddress    = "Cloudfront-Viewer-Address"
	HeaderViewerCountry    = "Cloudfront-Viewer-Country"
	HeaderViewerHTTPVer    = "Cloudfront-Viewer-Http-Version"
	HeaderViewerTLS        = "Cloudfront-Viewer-Tls"
	HeaderViewerHdrCount   = "Cloudfront-Viewer-Header-Count"
	HeaderViewerHdrOrder   = "Cloudfront-Viewer-Header-Order"
	HeaderViewerASN        = "Cloudfront-Viewer-Asn"
	HeaderViewerCity       = "Cloudfront-Viewer-City"
	HeaderViewerCountryNm  = "Cloudfront-Viewer-Country-Name"
	HeaderViewerRegion     = "Cloudfront-Viewer-Country-Region"
	HeaderViewerRegionNm   = "Cloudfront-Viewer-Country-Region-Name"
	HeaderViewerLatitude   = "Cloudfront-Viewer-Latitude"
	HeaderViewerLongitude  = "Cloudfront-Viewer-Longitude"
	HeaderViewerMetroCode  = "Cloudfront-Viewer-Metro-Code"
	HeaderViewerPostalCode = "Cloudfront-Viewer-Postal-Code"
	HeaderViewerTimeZone   = "Cloudfront-Viewer-Time-Zone"
	HeaderViewerJA3        = "Cloudfront-Viewer-Ja3-Fingerprint"
	HeaderViewerJA4        = "Cloudfront-Viewer-Ja4-Fingerprint"
	HeaderIsAndroidViewer  = "Cloudfront-Is-Android-Viewer"
	HeaderIsDesktopViewer  = "Cloudfront-Is-Desktop-Viewer"
	HeaderIsIOSViewer      = "Cloudfront-Is-Ios-Viewer"
	HeaderIsMobileViewer   = "Cloudfront-Is-Mobile-Viewer"
	HeaderIsSmartTVViewer  = "Cloudfront-Is-Smarttv-Viewer"
	HeaderIsTabletViewer   = "Cloudfront-Is-Tablet-Viewer"
	cloudFrontHeaderPrefix = "Cloudfront-"
)

// Headers lists the headers ViewerHeaders can compute, in canonical form.
var Headers = []string{
	HeaderForwardedProto, HeaderViewerAddress, HeaderViewerCountry, HeaderViewerHTTPVer, HeaderViewerTLS,
	HeaderViewerHdrCount, HeaderIsAndroidViewer, HeaderIsDesktopViewer, HeaderIsIOSViewer,
	HeaderIsMobileViewer, HeaderIsSmartTVViewer, HeaderIsTabletViewer,
	HeaderViewerHdrOrder, HeaderViewerASN, HeaderViewerCity, HeaderViewerCountryNm, HeaderViewerRegion,
	HeaderViewerRegionNm, HeaderViewerLatitude, HeaderViewerLongitude, HeaderViewerMetroCode,
	HeaderViewerPostalCode, HeaderViewerTimeZone, HeaderViewerJA3, HeaderViewerJA4,
}

// IsCloudFrontHeader reports whether a canonical header name is one of the
// CloudFront-* request headers that CloudFront itself sets. The proxy must
// not forward a viewer's own value of such a header: a viewer could
// otherwise claim any country or device.
func IsCloudFrontHeader(name string) bool {
	return strings.HasPrefix(name, cloudFrontHeaderPrefix)
}

// ViewerHeaders sets on dst the CloudFront request headers that include
// selects (nil: all), computed from the viewer's request r and its country
// ("" when unknown: CloudFront-Viewer-Country is then not set). Header names
// passed to include are canonical (http.CanonicalHeaderKey), as in
// config.Selection.
//
// Values follow CloudFront's documented formats:
//   - CloudFront-Forwarded-Proto: http or https
//   - CloudFront-Viewer-Address: ip:port of the viewer (IPv6 in brackets)
//   - CloudFront-Viewer-Http-Version: 1.1, 2.0 or 3.0
//   - CloudFront-Viewer-TLS: version:cipher:handshake, e.g.
//     TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake, with OpenSSL cipher
//     names below TLS 1.3 (ECDHE-ECDSA-AES128-GCM-SHA256); the handshake is
//     sessionResumed or fullHandshake (connectionReused is not told apart)
//   - CloudFront-Viewer-Header-Count: the number of header fields
//   - CloudFront-Is-*-Viewer: true or false, from User-Agent
func ViewerHeaders(dst http.Header, r *http.Request, country string, include func(name string) bool) {
	ViewerHeadersAt(dst, r, &Location{Country: country}, include)
}

// ViewerHeadersAt is ViewerHeaders with the viewer's whole location (from
// Resolver.Locate; nil: unknown). Beyond ViewerHeaders's headers it sets,
// when known:
//   - CloudFront-Viewer-City, -Country-Name, -Country-Region (ISO 3166-2
//     subdivision code), -Country-Region-Name, -Latitude, -Longitude,
//     -Metro-Code (United States only), -Postal-Code, -Time-Zone (IANA) and
//     -ASN, from the database; non-ASCII characters percent-encoded (RFC
//     3986), as CloudFront does
//   - CloudFront-Viewer-JA3-Fingerprint and -JA4-Fingerprint, for HTTPS
//     requests on a connection edgetls.CaptureHello prepared
//   - CloudFront-Viewer-Header-Order, when the front end recorded the
//     order of the viewer's header names (WithHeaderOrder): the names
//     joined by ':', cut at 7,680 characters
func ViewerHeadersAt(dst http.Header, r *http.Request, loc *Location, include func(name string) bool) {
	if loc == nil {
		loc = &Location{}
	}
	country := loc.Country
	set := func(name, value string) {
		if include == nil || include(name) {
			dst[name] = []string{value}
		}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	set(HeaderForwardedProto, proto)
	if r.RemoteAddr != "" {
		set(HeaderViewerAddress, r.RemoteAddr)
	}
	if IsCountryCode(country) {
		set(HeaderViewerCountry, country)
	}
	set(HeaderViewerHTTPVer, strconv.Itoa(r.ProtoMajor)+"."+strconv.Itoa(r.ProtoMinor))
	if r.TLS != nil {
		set(HeaderViewerTLS, viewerTLS(r.TLS))
	}
	n := 0
	for _, v := range r.Header {
		n += len(v)
	}
	if r.Host != "" {
		n++ // net/http moves Host out of Header
	}
	set(HeaderViewerHdrCount, strconv.Itoa(n))
	if order, ok := r.Context().Value(headerOrderKey{}).([]string); ok {
		set(HeaderViewerHdrOrder, headerOrder(order))
	}
	if r.TLS != nil {
		if fp, ok := edgetls.Fingerprints(r.Context()); ok {
			set(HeaderViewerJA3, fp.JA3)
			set(HeaderViewerJA4, fp.JA4)
		}
	}
	loc.setHeaders(set)

	d := deviceOf(r.Header.Get("User-Agent"))
	set(HeaderIsAndroidViewer, strconv.FormatBool(d.android))
	set(HeaderIsDesktopViewer, strconv.FormatBool(d.desktop))
	set(HeaderIsIOSViewer, strconv.FormatBool(d.ios))
	set(HeaderIsMobileViewer, strconv.FormatBool(d.mobile))
	set(HeaderIsSmartTVViewer, strconv.FormatBool(d.smartTV))
	set(HeaderIsTabletViewer, strconv.FormatBool(d.tablet))
}

// viewerTLS renders CloudFront-Viewer-TLS.
func viewerTLS(cs *tls.ConnectionState) string {
	v := "TLSv1"
	switch cs.Version {
	case tls.VersionTLS11:
		v = "TLSv1.1"
	case tls.VersionTLS12:
		v = "TLSv1.2"
	case tls.VersionTLS13:
		v = "TLSv1.3"
	}
	cipher, ok := opensslNames[cs.CipherSuite]
	if !ok {
		cipher = tls.CipherSuiteName(cs.CipherSuite)
	}
	hs := "fullHandshake"
	if cs.DidResume {
		hs = "sessionResumed"
	}
	return v + ":" + cipher + ":" + hs
}

// opensslNames are the OpenSSL/s2n names CloudFront uses for TLS 1.0–1.2
// suites; TLS 1.3 suites keep their RFC names.
var opensslNames = map[uint16]string{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:       "ECDHE-ECDSA-AES128-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:         "ECDHE-RSA-AES128-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:               "AES128-SHA256",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:                 "DES-CBC3-SHA",
}

// device is the viewer's device type, as CloudFront-Is-*-Viewer tell it.
type device struct {
	android, desktop, ios, mobile, smartTV, tablet bool
}

// deviceOf classifies a User-Agent. CloudFront's own rules are not
// published; these follow the common conventions (Mozilla's "Mobi" token,
// platform names). A tablet can also be mobile, as CloudFront notes; a
// viewer that is none of mobile, tablet and smart TV is a desktop.
func deviceOf(ua string) device {
	var d device
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(ua, s) {
				return true
			}
		}
		return false
	}
	d.android = has("Android")
	d.ios = has("iPhone", "iPad", "iPod")
	d.smartTV = has("SmartTV", "SMART-TV", "Smart-TV", "GoogleTV", "AppleTV", "HbbTV", "Web0S", "NetCast", "BRAVIA", "Roku", "CrKey", "AFTB", "AFTS", "AFTM")
	d.tablet = has("iPad", "Tablet", "Kindle", "Silk/") || d.android && !has("Mobile")
	d.mobile = has("Mobi", "iPhone", "iPod", "Windows Phone", "BlackBerry", "Opera Mini") || d.android || has("iPad")
	d.desktop = !d.mobile && !d.tablet && !d.smartTV
	return d
}

// maxHeaderOrder is where CloudFront cuts CloudFront-Viewer-Header-Order
// ("Headers beyond the character limit of 7,680 are truncated").
const maxHeaderOrder = 7680

// headerOrderKey is the context key of a request's header names in order.
type headerOrderKey struct{}

// WithHeaderOrder returns ctx carrying the names of the viewer's header
// fields in the order they arrived (Host included, each occurrence once per
// field line), for CloudFront-Viewer-Header-Order. A front end that knows
// the order (its own request parser) calls it; net/http keeps no order, so
// without it the header is not set rather than made up.
func WithHeaderOrder(ctx context.Context, names []string) context.Context {
	return context.WithValue(ctx, headerOrderKey{}, names)
}

// headerOrder joins names with ':', cut at maxHeaderOrder characters.
func headerOrder(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(n)
		if b.Len() >= maxHeaderOrder {
			break
		}
	}
	s := b.String()
	if len(s) > maxHeaderOrder {
		s = s[:maxHeaderOrder]
	}
	return s
}

// locationHeaders are the headers only Resolver.Locate can fill.
var locationHeaders = [...]string{HeaderViewerCity, HeaderViewerCountryNm, HeaderViewerRegion, HeaderViewerRegionNm,
	HeaderViewerPostalCode, HeaderViewerTimeZone, HeaderViewerLatitude, HeaderViewerLongitude, HeaderViewerMetroCode, HeaderViewerASN}

// WantsLocation reports whether include asks for any header only
// Resolver.Locate can fill (city, region, coordinates, ASN…): when it asks
// for none, the country (Resolver.Country) is all a request needs, and the
// database's whole record is not decoded.
func WantsLocation(include func(name string) bool) bool {
	for _, h := range locationHeaders {
		if include == nil || include(h) {
			return true
		}
	}
	return false
}

// setHeaders sets the location headers l knows.
func (l *Location) setHeaders(set func(name, value string)) {
	str := func(name, v string) {
		if v != "" {
			set(name, pctEncode(v))
		}
	}
	str(HeaderViewerCity, l.City)
	str(HeaderViewerCountryNm, l.CountryName)
	str(HeaderViewerRegion, l.Region)
	str(HeaderViewerRegionNm, l.RegionName)
	str(HeaderViewerPostalCode, l.PostalCode)
	str(HeaderViewerTimeZone, l.TimeZone)
	if l.HasCoordinates {
		set(HeaderViewerLatitude, strconv.FormatFloat(l.Latitude, 'f', -1, 64))
		set(HeaderViewerLongitude, strconv.FormatFloat(l.Longitude, 'f', -1, 64))
	}
	if l.MetroCode != 0 && l.Country == "US" {
		set(HeaderViewerMetroCode, strconv.FormatUint(uint64(l.MetroCode), 10))
	}
	if l.ASN != 0 {
		set(HeaderViewerASN, strconv.FormatUint(uint64(l.ASN), 10))
	}
}

// pctEncode percent-encodes the bytes of s outside printable ASCII ("For
// non-ASCII characters in these headers' values, CloudFront percent-encodes
// the character according to section 1.2 of RFC 3986").
func pctEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '%' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}
