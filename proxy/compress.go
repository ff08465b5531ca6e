package proxy

import (
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
	"github.com/edgefront/edgefront/origin"
)

// CloudFront compresses objects of 1,000 to 10,000,000 bytes (CloudFront
// Developer Guide, "Serve compressed files": conditions for compression).
const (
	minCompressSize = 1000
	maxCompressSize = 10_000_000
)

// compressibleTypes are the Content-Types CloudFront compresses ("File types
// that CloudFront compresses").
var compressibleTypes = map[string]bool{
	"application/dash+xml": true, "application/eot": true, "application/font": true, "application/font-sfnt": true,
	"application/javascript": true, "application/json": true, "application/opentype": true, "application/otf": true,
	"application/pdf": true, "application/pkcs7-mime": true, "application/protobuf": true, "application/rss+xml": true,
	"application/truetype": true, "application/ttf": true, "application/vnd.apple.mpegurl": true,
	"application/vnd.mapbox-vector-tile": true, "application/vnd.ms-fontobject": true, "application/wasm": true,
	"application/xhtml+xml": true, "application/xml": true, "application/x-font-opentype": true,
	"application/x-font-truetype": true, "application/x-font-ttf": true, "application/x-httpd-cgi": true,
	"application/x-javascript": true, "application/x-mpegurl": true, "application/x-opentype": true,
	"application/x-otf": true, "application/x-perl": true, "application/x-ttf": true, "font/eot": true,
	"font/opentype": true, "font/otf": true, "font/ttf": true, "image/svg+xml": true, "text/css": true,
	"text/csv": true, "text/html": true, "text/javascript": true, "text/js": true, "text/plain": true,
	"text/richtext": true, "text/tab-separated-values": true, "text/xml": true, "text/x-script": true,
	"text/x-component": true, "text/x-java-source": true, "vnd.apple.mpegurl": true,
}

// compression decides whether CloudFront would compress this origin
// response for viewers whose normalised encodings are enc, and returns the
// encoding to apply ("" for none). The conditions: the behaviour compresses;
// the viewer accepts gzip or br (br only when the cache policy enables it,
// which NormalizeEncoding already checked); the status is 200, 403 or 404;
// the origin
// sent Content-Length between 1,000 and 10,000,000 bytes and no
// Content-Encoding; the Content-Type is one CloudFront compresses; and the
// origin did not forbid transformation (Cache-Control: no-transform,
// RFC 9111 §5.2.2.6).
func compression(b *config.Behavior, enc string, resp *origin.Response) string {
	enc = cache.PreferredEncoding(enc)
	if !b.Compress || enc == "" || !compressibleStatus(resp.StatusCode) {
		return ""
	}
	h := resp.Header
	if resp.ContentLength < minCompressSize || resp.ContentLength > maxCompressSize {
		return ""
	}
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return ""
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || !compressibleTypes[mt] {
		return ""
	}
	for _, cc := range h["Cache-Control"] {
		if strings.Contains(strings.ToLower(cc), "no-transform") {
			return ""
		}
	}
	return enc
}

// compressedHeader is the origin's header for a response edgefront
// compresses: Content-Encoding set, Content-Length dropped (it is set on the
// cached entry once the compressed size is known), Vary: Accept-Encoding
// added, a strong ETag made weak and an invalid one removed, as CloudFront
// converts them.
func compressedHeader(h http.Header, enc string) http.Header {
	out := h.Clone()
	out["Content-Encoding"] = []string{enc}
	delete(out, "Content-Length")
	if !varies(out, "Accept-Encoding") {
		out.Add("Vary", "Accept-Encoding")
	}
	switch et := out.Get("ETag"); {
	case et == "" || strings.HasPrefix(et, "W/"):
	case strings.HasPrefix(et, `"`):
		out["Etag"] = []string{"W/" + et}
	default:
		// "When the object from the origin includes an invalid ETag
		// header value (the value does not begin with " or with W/),
		// CloudFront removes the ETag header" (ServingCompressedFiles).
		delete(out, "Etag")
	}
	return out
}

// compressibleStatus reports whether CloudFront compresses a response with
// this status: 200, 403 and 404 (ServingCompressedFiles, "Conditions for
// compression").
func compressibleStatus(code int) bool {
	return code == http.StatusOK || code == http.StatusForbidden || code == http.StatusNotFound
}

func varies(h http.Header, name string) bool { return fields.HasToken(h["Vary"], name) }

// newCompressor returns a writer that compresses into w.
func newCompressor(enc string, w io.Writer) io.WriteCloser {
	if enc == "br" {
		return brotli.NewWriterLevel(w, 5)
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	return zw
}

// fillCompressed reads the origin body, compresses it into the flight, and
// returns the compressed size.
func fillCompressed(f *flight, r io.Reader, enc string) (int64, error) {
	zw := newCompressor(enc, f.Writer())
	if _, err := io.Copy(zw, r); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(len(f.Body())), nil
}

// contentLength renders n for a Content-Length header.
func contentLength(n int64) []string { return []string{strconv.FormatInt(n, 10)} }
