package proxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/proxy"
)

// TestDiskTierThroughProxy: with every object on disk only (RAM takes
// nothing over 1 byte), hits, ranges, conditionals, HEAD, HTTP/2 over TLS
// and a revalidation (304: RefreshHit, the body kept on disk) answer as
// they do from memory, and plain HTTP/1.1 sends the bodies with sendfile.
func TestDiskTierThroughProxy(t *testing.T) {
	const body = "0123456789abcdefghij"
	o, hits, revalidations := revalidatingOrigin(t, map[string][]byte{"/d.txt": []byte(body)})
	var store *cache.Store
	e := newEdgeWith(t, oneOrigin, map[string]string{"web": o.URL}, func(opts *proxy.Options) {
		var err error
		store, err = cache.New(cache.Options{MaxBytes: 64 << 20, MaxObjectSize: 1, Now: opts.Now,
			Disk: &cache.DiskOptions{Path: t.TempDir(), MaxBytes: 1 << 30}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		opts.Store = store
	})
	if r := e.do("GET", "/d.txt"); r.status != 200 || r.body != body || r.xcache() != "Miss from cloudfront" {
		t.Fatalf("miss: %d %q %q", r.status, r.body, r.xcache())
	}
	store.WaitDisk()
	for _, tc := range []struct {
		name       string
		method     string
		hdr        []string
		tls        bool
		wantStatus int
		wantBody   string
	}{
		{"hit", "GET", nil, false, 200, body},
		{"range", "GET", []string{"Range", "bytes=2-5"}, false, 206, body[2:6]},
		{"suffix range", "GET", []string{"Range", "bytes=-3"}, false, 206, body[len(body)-3:]},
		{"multipart", "GET", []string{"Range", "bytes=0-0,5-6"}, false, 206, ""},
		{"conditional", "GET", []string{"If-None-Match", `"v1"`}, false, 304, ""},
		{"HEAD", "HEAD", nil, false, 200, ""},
		{"HTTP/2 over TLS", "GET", nil, true, 200, body},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.tls {
				r = e.doTLS(tc.method, "/d.txt", tc.hdr...)
			} else {
				r = e.do(tc.method, "/d.txt", tc.hdr...)
			}
			if r.status != tc.wantStatus || r.xcache() != "Hit from cloudfront" {
				t.Errorf("%d %q, want %d, Hit", r.status, r.xcache(), tc.wantStatus)
			}
			if tc.wantBody != "" && r.body != tc.wantBody {
				t.Errorf("body %q, want %q", r.body, tc.wantBody)
			}
			if tc.name == "multipart" && (!strings.Contains(r.body, "\r\n\r\n0\r\n") || !strings.Contains(r.body, "\r\n\r\n56\r\n")) {
				t.Errorf("multipart body %q", r.body)
			}
			if tc.method == "HEAD" && (r.body != "" || r.header.Get("Content-Length") != "20") {
				t.Errorf("HEAD: body %q, Content-Length %q", r.body, r.header.Get("Content-Length"))
			}
		})
	}
	if n := e.http.srv.SendfileWrites(); n < 3 {
		t.Errorf("sendfile writes = %d, want the plain-HTTP hits' (at least 3)", n)
	}
	if st := store.DiskStats(); st.Hits < 7 {
		t.Errorf("disk hits = %d, want at least 7", st.Hits)
	}
	e.clock.Advance(2 * time.Minute)
	if r := e.do("GET", "/d.txt"); r.status != 200 || r.body != body || r.xcache() != "RefreshHit from cloudfront" {
		t.Errorf("after expiry: %d %q %q, want 200, the body, RefreshHit", r.status, r.body, r.xcache())
	}
	store.WaitDisk()
	if r := e.do("GET", "/d.txt"); r.status != 200 || r.body != body || r.xcache() != "Hit from cloudfront" {
		t.Errorf("after the refresh: %d %q %q", r.status, r.body, r.xcache())
	}
	if hits.Load() != 2 || revalidations.Load() != 1 {
		t.Errorf("origin: %d requests, %d revalidations; want 2, 1", hits.Load(), revalidations.Load())
	}
}
