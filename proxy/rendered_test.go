package proxy_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/accesslog"
	"github.com/edgefront/edgefront/proxy"
)

// renderedOrigin answers every request with a body and a header that has
// a bit of everything a stored header can hold: common and uncommon
// fields, a field with two values, and fields the edge sets itself on every
// response (Via, X-Cache), which must not be sent twice.
func renderedOrigin(t *testing.T) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "max-age=600")
		h.Set("ETag", `"v1"`)
		h.Set("Last-Modified", "Wed, 25 Nov 2026 00:00:00 GMT")
		h["Link"] = []string{"</a.css>; rel=preload", "</b.js>; rel=preload"}
		h.Set("X-Origin-Tag", "blue")
		h.Set("Via", "1.1 upstream")
		h.Set("X-Cache", "Miss from upstream")
		io.WriteString(w, "rendered body")
	})
}

// TestHitSendsStoredHeaderRendered: a cache hit sends its stored header as
// it was rendered when stored (cache.Header.Rendered), and the viewer gets
// what the header map would have given it — through h1 and h2 alike: every
// stored field once with its values, one Date (the origin's), one
// Content-Length, CloudFront's own fields in place of the origin's Via and
// X-Cache. The same object answered through the header map (a conditional
// request that does not match) has the same fields.
func TestHitSendsStoredHeaderRendered(t *testing.T) {
	o := renderedOrigin(t)
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`), map[string]string{"web": o.URL})
	if r := e.do("GET", "/r"); r.status != 200 || r.xcache() != "Miss from cloudfront" {
		t.Fatalf("first request: %d %q", r.status, r.xcache())
	}
	for _, tt := range []struct {
		name string
		do   func(method, path string, hdr ...string) response
	}{{"h1", e.do}, {"h2", e.doTLS}} {
		t.Run(tt.name, func(t *testing.T) {
			hit := tt.do("GET", "/r")
			if hit.status != 200 || hit.body != "rendered body" || hit.xcache() != "Hit from cloudfront" {
				t.Fatalf("hit: %d %q %q", hit.status, hit.body, hit.xcache())
			}
			if tt.name == "h2" && hit.proto != "HTTP/2.0" {
				t.Fatalf("over %s, want HTTP/2.0", hit.proto)
			}
			want := map[string][]string{
				"Content-Type": {"text/plain; charset=utf-8"}, "Cache-Control": {"max-age=600"}, "Etag": {`"v1"`},
				"Last-Modified": {"Wed, 25 Nov 2026 00:00:00 GMT"}, "Link": {"</a.css>; rel=preload", "</b.js>; rel=preload"},
				"X-Origin-Tag": {"blue"}, "Content-Length": {"13"}, "Age": {"0"}, "X-Cache": {"Hit from cloudfront"},
				"X-Amz-Cf-Pop": hit.header["X-Amz-Cf-Pop"],
			}
			for k, vs := range want {
				if got := hit.header.Values(k); !reflect.DeepEqual(got, vs) {
					t.Errorf("%s: %q, want %q", k, got, vs)
				}
			}
			if v := hit.header.Values("Via"); len(v) != 1 || !strings.HasSuffix(v[0], ".cloudfront.net (CloudFront)") {
				t.Errorf("Via: %q, want edgefront's alone", v)
			}
			if v := hit.header.Values("Date"); len(v) != 1 {
				t.Errorf("Date: %q, want one", v)
			}
			if len(hit.header["X-Amz-Cf-Pop"]) != 1 || len(hit.header.Values("X-Amz-Cf-Id")) != 1 {
				t.Errorf("X-Amz-Cf-Pop %q, X-Amz-Cf-Id %q: want one each", hit.header["X-Amz-Cf-Pop"], hit.header.Values("X-Amz-Cf-Id"))
			}

			// HEAD: the same fields, the length of the body it leaves out.
			head := tt.do("HEAD", "/r")
			if head.status != 200 || head.body != "" || head.header.Get("Content-Length") != "13" ||
				head.header.Get("Etag") != `"v1"` || len(head.header.Values("Date")) != 1 {
				t.Errorf("HEAD hit: %d, body %q, Content-Length %q, ETag %q, Date %q", head.status, head.body,
					head.header.Get("Content-Length"), head.header.Get("Etag"), head.header.Values("Date"))
			}

			// Through the header map: the same fields, the request ID aside.
			mapped := tt.do("GET", "/r", "If-None-Match", `"other"`)
			if mapped.status != 200 || mapped.body != "rendered body" || mapped.xcache() != "Hit from cloudfront" {
				t.Fatalf("conditional hit: %d %q %q", mapped.status, mapped.body, mapped.xcache())
			}
			a, b := hit.header.Clone(), mapped.header.Clone()
			for _, h := range []http.Header{a, b} {
				delete(h, "X-Amz-Cf-Id")
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("rendered hit's fields\n%v\ndiffer from the header map's\n%v", a, b)
			}
		})
	}
	if n := o.hits.Load(); n != 1 {
		t.Errorf("origin requests: %d, want 1", n)
	}
}

// TestHitRenderedOnTheWire reads an h1 hit's head as it is sent: every
// field name once (a client would merge a repeated Date or Content-Length
// without a word), and the stored fields as they were rendered — after the
// response's own, in order of name — which is how a hit's head comes out
// only when the stored header was not copied into the header map (its
// order is random there).
func TestHitRenderedOnTheWire(t *testing.T) {
	o := renderedOrigin(t)
	e := newEdge(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`), map[string]string{"web": o.URL})
	e.do("GET", "/r")
	names := rawHead(t, e.http.Listener.Addr().String(), "/r")
	if len(names) == 0 || names[0] != "HTTP/1.1 200 OK" {
		t.Fatalf("status line: %q", names)
	}
	names = names[1:]
	seen := map[string]int{}
	for _, n := range names {
		seen[n]++
	}
	for n, c := range seen {
		if c > 1 && n != "Link" {
			t.Errorf("%s sent %d times", n, c)
		}
	}
	stored := []string{"Cache-Control", "Content-Type", "Date", "Etag", "Last-Modified", "Link", "Link", "X-Origin-Tag"}
	i := slices.Index(names, "Cache-Control")
	if i < 0 || i+len(stored) > len(names) || !slices.Equal(names[i:i+len(stored)], stored) {
		t.Errorf("fields sent: %q; want the stored ones rendered in order, %q", names, stored)
	}
}

// rawHead sends GET path on a new connection to addr and returns the
// response's status line, then its field names in the order sent.
func rawHead(t *testing.T, addr, path string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	tp := textproto.NewReader(bufio.NewReader(c))
	status, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	out := []string{status}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if line == "" {
			return out
		}
		name, _, _ := strings.Cut(line, ":")
		out = append(out, name)
	}
}

// lineWriter hands each write (one batch of access log lines) to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// TestHitRenderedAccessLog: a hit whose stored header went out rendered is
// logged like one answered through the header map: its content type,
// content length and bytes sent are those the viewer got.
func TestHitRenderedAccessLog(t *testing.T) {
	o := renderedOrigin(t)
	lines := make(lineWriter, 16)
	e := newEdgeWith(t, webSettings("", `      DefaultCacheBehavior: {TargetOriginId: web, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingOptimized}
`), map[string]string{"web": o.URL}, func(opts *proxy.Options) {
		opts.AccessLog = accesslog.New(lines, accesslog.Options{Format: accesslog.JSON})
	})
	record := func() map[string]any {
		t.Helper()
		select {
		case l := <-lines:
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no access log line")
		}
		return nil
	}
	e.do("GET", "/r")
	record() // the miss
	var got []map[string]any
	for _, hdr := range [][]string{nil, {"If-None-Match", `"other"`}} {
		if r := e.do("GET", "/r", hdr...); r.xcache() != "Hit from cloudfront" {
			t.Fatalf("not a hit: %q", r.xcache())
		}
		got = append(got, record())
	}
	for i, m := range got {
		if m["sc-content-type"] != "text/plain; charset=utf-8" || m["sc-content-len"] != float64(13) || m["x-edge-result-type"] != "Hit" {
			t.Errorf("record %d: type %v, length %v, result %v", i, m["sc-content-type"], m["sc-content-len"], m["x-edge-result-type"])
		}
	}
	if got[0]["sc-bytes"] != got[1]["sc-bytes"] {
		t.Errorf("sc-bytes: rendered %v, through the header map %v", got[0]["sc-bytes"], got[1]["sc-bytes"])
	}
}
