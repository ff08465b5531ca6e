package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/edgefront/edgefront/cache"
	"github.com/edgefront/edgefront/proxy"
)

// patterned is an n-byte body of a repeating pattern seeded by seed, so
// that a byte from another body, or from the wrong offset, shows.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

// TestRAMTierThroughProxy: bodies in the RAM tier's arena answer hits,
// ranges, HEAD, HTTP/2 over TLS and a revalidation as before; on plain
// HTTP/1.1 a large body (100 KiB) goes to the socket with sendfile(2) from
// the arena's memory file, a small one (1 KiB) is written.
func TestRAMTierThroughProxy(t *testing.T) {
	big, small := patterned(100<<10, 1), patterned(1<<10, 7)
	o, requests, revalidations := revalidatingOrigin(t, map[string][]byte{"/big": big, "/small": small})
	e := newEdge(t, oneOrigin, map[string]string{"web": o.URL})
	for _, p := range []string{"/big", "/small"} {
		if r := e.do("GET", p); r.status != 200 || r.xcache() != "Miss from cloudfront" {
			t.Fatalf("%s: %d %q, want a miss", p, r.status, r.xcache())
		}
	}
	if a := e.store.ArenaStats(); a.Used < int64(len(big)+len(small)) {
		t.Fatalf("arena in use %d B after storing %d B of bodies", a.Used, len(big)+len(small))
	}
	sendfiles := e.http.srv.SendfileWrites()
	for _, tc := range []struct {
		name, path, method string
		hdr                []string
		tls                bool
		status             int
		body               []byte
		sendfile           int64 // more sendfile(2) calls after it
	}{
		{"large hit", "/big", "GET", nil, false, 200, big, 1},
		{"small hit", "/small", "GET", nil, false, 200, small, 0},
		{"range of the large", "/big", "GET", []string{"Range", "bytes=70000-90000"}, false, 206, big[70000:90001], 1},
		{"range of the small", "/small", "GET", []string{"Range", "bytes=-10"}, false, 206, small[len(small)-10:], 0},
		{"HEAD", "/big", "HEAD", nil, false, 200, nil, 0},
		{"HTTP/2 over TLS", "/big", "GET", nil, true, 200, big, 0},
		{"HTTP/2 over TLS, range", "/big", "GET", []string{"Range", "bytes=5-9"}, true, 206, big[5:10], 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.tls {
				r = e.doTLS(tc.method, tc.path, tc.hdr...)
			} else {
				r = e.do(tc.method, tc.path, tc.hdr...)
			}
			if r.status != tc.status || r.xcache() != "Hit from cloudfront" || r.body != string(tc.body) {
				t.Errorf("%d %q with %d bytes, want %d, Hit, %d bytes", r.status, r.xcache(), len(r.body), tc.status, len(tc.body))
			}
			if tc.method == "HEAD" && r.header.Get("Content-Length") != strconv.Itoa(len(big)) {
				t.Errorf("HEAD: Content-Length %q", r.header.Get("Content-Length"))
			}
			now := e.http.srv.SendfileWrites()
			if now-sendfiles != tc.sendfile {
				t.Errorf("sendfile(2) calls: %d, want %d", now-sendfiles, tc.sendfile)
			}
			sendfiles = now
		})
	}
	e.clock.Advance(2 * time.Minute)
	if r := e.do("GET", "/big"); r.status != 200 || r.body != string(big) || r.xcache() != "RefreshHit from cloudfront" {
		t.Errorf("after expiry: %d %q, %d bytes; want 200, RefreshHit, the body", r.status, r.xcache(), len(r.body))
	}
	if r := e.do("GET", "/big"); r.status != 200 || r.body != string(big) || r.xcache() != "Hit from cloudfront" {
		t.Errorf("after the refresh: %d %q, %d bytes", r.status, r.xcache(), len(r.body))
	}
	if requests.Load() != 3 || revalidations.Load() != 1 {
		t.Errorf("origin: %d requests, %d revalidations; want 3, 1", requests.Load(), revalidations.Load())
	}
}

// TestRAMBodyPagesOutliveTheirBlock: sendfile(2) gives the socket the
// arena's pages themselves, so bytes a viewer has not read yet are still
// those pages after the response is done. Here a viewer's whole answer
// (64 KiB) sits unread in its socket while the object is invalidated and
// other objects cycle through the whole arena: the viewer must still read
// the object it asked for, byte for byte (the freed block's pages are
// punched out of the memory file before the block is reused).
func TestRAMBodyPagesOutliveTheirBlock(t *testing.T) {
	const size, perRound, rounds = 64 << 10, 12, 16
	var fetches [perRound]atomic.Int64
	seed := func(i int, fetch int64) byte { return byte(i + 13*int(fetch)) }
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/o/"))
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write(patterned(size, seed(i, fetches[i].Add(1)-1))) // another body each time it is fetched
	})
	var store *cache.Store
	e := newEdgeWith(t, oneOrigin, map[string]string{"web": o.URL}, func(opts *proxy.Options) {
		var err error
		// Room for 16 such objects, in an arena (with its fixed slack)
		// for ~80.
		store, err = cache.New(cache.Options{MaxBytes: 1 << 20, MaxObjectSize: 256 << 10, Now: opts.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		opts.Store = store
	})
	if r := e.do("GET", "/o/0"); r.status != 200 || len(r.body) != size {
		t.Fatalf("miss: %d, %d bytes", r.status, len(r.body))
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(e.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /o/0 HTTP/1.1\r\nHost: d111111abcdef8.cloudfront.net\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Wait until the whole answer is in the viewer's socket, unread: the
	// response is then done and its hold on the body released.
	raw, _ := c.(*net.TCPConn).SyscallConn()
	deadline := time.Now().Add(10 * time.Second)
	for queued := 0; queued < size; {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, %d bytes queued for the viewer", queued)
		}
		_ = raw.Control(func(fd uintptr) { queued, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
		time.Sleep(time.Millisecond) // polling the socket's queue: there is no event to wait on
	}
	if n := e.http.srv.SendfileWrites(); n < 1 {
		t.Fatalf("sendfile(2) calls %d: the hit did not use it", n)
	}
	// The object leaves the cache (invalidated: the next request finds it
	// banned and deletes it, and gets another body from the origin); then
	// rounds of other objects, each round invalidated in turn, cycle
	// through the whole arena, which reuses the room the object had (the
	// freed blocks merge into one, taken from its start again).
	for round := range rounds {
		e.clock.Advance(time.Second)
		store.Invalidate("ETESTDIST0001", "/o/*", e.clock.Now())
		e.clock.Advance(time.Second)
		for i := range perRound {
			fetch := int64(round)
			if i == 0 {
				fetch++
			}
			if r := e.do("GET", fmt.Sprintf("/o/%d", i)); r.status != 200 || r.body != string(patterned(size, seed(i, fetch))) {
				t.Fatalf("round %d, /o/%d: %d %q, %d bytes", round, i, r.status, r.xcache(), len(r.body))
			}
		}
	}
	if a := store.ArenaStats(); a.Size > rounds*perRound*size/2 {
		t.Fatalf("arena of %d B: %d rounds of %d objects do not go through it twice", a.Size, rounds, perRound)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := patterned(size, seed(0, 0))
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("the unread answer changed under the viewer: %d bytes, first difference at %d (%d, want %d)",
			len(got), i, got[min(i, len(got)-1)], want[min(i, len(want)-1)])
	}
}

// firstDiff is the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
