package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// benchOrigin is the counting origin every target (edgefront, NGINX, Varnish)
// sits in front of. Like ../shared/peers/origin it answers with fixed-size
// bodies and Cache-Control: public, max-age=3600; unlike it, distinct cache
// entries are made with distinct paths (/obj/1k/z17), because edgefront's
// quick mode uses the managed CachingOptimized policy, which keeps query
// strings out of the cache key.
//
// Parameters are path segments too: CloudFront (and so edgefront) forwards to
// the origin only the query strings the cache or origin request policy
// names, and CachingOptimized names none.
//
//	/obj/{size}[/{key...}]      size 1k, 10k, 100k or 1m; ETag, Last-Modified
//	/slow/{ms}/{key...}         sleeps ms milliseconds before answering; counted per key
//	/big/{mib}/{ms}/{key...}    a mib MiB body after ms milliseconds; counted per key
//	/stats                      JSON counters
type benchOrigin struct {
	modTime time.Time
	bodies  map[string][]byte
	chunk   []byte // 1 MiB, the /big body's repeating unit

	total   atomic.Int64
	objHits atomic.Int64

	mu    sync.Mutex
	byKey map[string]int64 // "/slow/KEY" and "/big/KEY" → requests

	srv *http.Server
	url string
}

// startOrigin listens on a free loopback port and serves until close.
func startOrigin() (*benchOrigin, error) {
	o := &benchOrigin{
		modTime: time.Now().UTC().Truncate(time.Second),
		bodies:  map[string][]byte{},
		chunk:   bytes.Repeat([]byte("b"), 1<<20),
		byKey:   map[string]int64{},
	}
	for name, n := range map[string]int{"1k": 1 << 10, "10k": 10 << 10, "100k": 100 << 10, "1m": 1 << 20} {
		o.bodies[name] = bytes.Repeat([]byte("x"), n)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /obj/{size}", o.obj)
	mux.HandleFunc("GET /obj/{size}/{key...}", o.obj)
	mux.HandleFunc("GET /slow/{ms}/{key...}", o.slow)
	mux.HandleFunc("GET /big/{mib}/{ms}/{key...}", o.big)
	mux.HandleFunc("GET /stats", o.stats)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("origin listener: %w", err)
	}
	o.url = "http://" + ln.Addr().String()
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = o.srv.Serve(ln) }()
	return o, nil
}

func (o *benchOrigin) close() { _ = o.srv.Close() }

// port is the origin's TCP port.
func (o *benchOrigin) port() string {
	_, p, _ := net.SplitHostPort(o.url[len("http://"):])
	return p
}

// requests is the number of requests the origin has answered (or begun to).
func (o *benchOrigin) requests() int64 { return o.total.Load() }

// keyHits is the number of requests for one /slow or /big key.
func (o *benchOrigin) keyHits(k string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.byKey[k]
}

func (o *benchOrigin) count(k string) {
	o.total.Add(1)
	o.mu.Lock()
	o.byKey[k]++
	o.mu.Unlock()
}

func (o *benchOrigin) obj(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("size")
	body, ok := o.bodies[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	o.total.Add(1)
	o.objHits.Add(1)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", `"obj-`+name+`-`+strconv.Itoa(len(body))+`"`)
	http.ServeContent(w, r, "", o.modTime, bytes.NewReader(body))
}

// sleep waits for the {ms} path segment's milliseconds, or until the
// request is cancelled (false).
func sleep(r *http.Request) bool {
	ms, _ := strconv.Atoi(r.PathValue("ms"))
	if ms <= 0 {
		return true
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (o *benchOrigin) slow(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	o.count("/slow/" + key)
	if r.URL.RawQuery != "" {
		http.Error(w, "the bench origin takes no query string", http.StatusBadRequest)
		return
	}
	if !sleep(r) {
		return
	}
	body := []byte("slow " + key + "\n")
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Last-Modified", o.modTime.Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (o *benchOrigin) big(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	o.count("/big/" + key)
	mib, _ := strconv.Atoi(r.PathValue("mib"))
	if mib <= 0 || mib > 1024 {
		mib = 100
	}
	if !sleep(r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Last-Modified", o.modTime.Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(mib<<20))
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush() // the headers leave now: TTFB is the ms delay
	}
	for range mib {
		if _, err := w.Write(o.chunk); err != nil {
			return
		}
	}
}

func (o *benchOrigin) stats(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"requests": o.total.Load(), "obj_hits": o.objHits.Load()}
	if k := r.URL.Query().Get("k"); k != "" {
		out["key_hits"] = o.keyHits(k)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// errOrigin marks an origin that does not answer.
var errOrigin = errors.New("origin does not answer")

// waitHTTP polls url until it answers 200 or ctx/timeout ends.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: %w (last error: %v)", url, errOrigin, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
