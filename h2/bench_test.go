package h2

import (
	"bytes"
	"crypto/tls"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Benchmark shape: conns connections, each keeping streams requests in
// flight (the bench's hit-1k-h2 scenario is 64 × 10).
const (
	benchConns   = 16
	benchStreams = 10
)

// benchTarget is a TLS listener serving HTTP/2 with edgefront's Server or
// net/http's.
type benchTarget struct {
	addr  string
	close func()
}

func edgefrontTarget(b *testing.B, h http.Handler) benchTarget {
	ts := newTestServer(b, h)
	return benchTarget{addr: ts.addr, close: func() {}}
}

func netHTTPTarget(b *testing.B, h http.Handler) benchTarget {
	cfg := &tls.Config{Certificates: []tls.Certificate{testCert()}, NextProtos: []string{"h2"}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ErrorLog: discardLog(b)}
	if err := http2.ConfigureServer(srv, &http2.Server{MaxConcurrentStreams: 100}); err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return benchTarget{addr: ln.Addr().String(), close: func() {}}
}

// load sends b.N GETs for path over benchConns connections with
// benchStreams in flight on each, checking every response is 200 with
// wantBody bytes; it reports requests/s, the latency of a request from its
// HEADERS to its END_STREAM (p50, p99; benchStreams in flight per
// connection) and the goroutines seen mid-run.
func load(b *testing.B, t benchTarget, path string, wantBody int) {
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	var goroutines atomic.Int64
	conns := make([]*benchConn, benchConns)
	for i := range conns {
		conns[i] = dialBench(b, t.addr, path)
		conns[i].lat = make([]time.Duration, 0, b.N/benchConns+benchStreams+1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i, bc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := bc.run(&left, wantBody, func() {
				if i == 0 {
					goroutines.Store(int64(runtime.NumGoroutine()))
				}
			}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	for _, bc := range conns {
		bc.nc.Close()
	}
	var lat []time.Duration
	for _, bc := range conns {
		lat = append(lat, bc.lat...)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	b.ReportMetric(float64(goroutines.Load()), "goroutines")
}

// benchConn is a lean HTTP/2 client connection: one pre-encoded request
// block, a Framer without header decoding.
type benchConn struct {
	nc    net.Conn
	fr    *http2.Framer
	bw    *bytes.Buffer
	block []byte
	next  uint32
	recv  int
	warm  bool // the table-filling request is in flight
	lat   []time.Duration
}

func dialBench(b *testing.B, addr, path string) *benchConn {
	nc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		b.Fatal(err)
	}
	bc := &benchConn{nc: nc, bw: new(bytes.Buffer), next: 1}
	bc.fr = http2.NewFramer(bc.bw, nc)
	bc.fr.SetReuseFrames()
	// As a browser or h2load does: the first request's block puts the
	// fields in the HPACK table, every later one refers to them.
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	encode := func() []byte {
		hb.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", path},
			{":authority", "localhost"}, {"user-agent", "h2bench"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		return bytes.Clone(hb.Bytes())
	}
	first := encode()
	bc.block = encode()
	bc.bw.WriteString(http2.ClientPreface)
	_ = bc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	_ = bc.fr.WriteWindowUpdate(0, 1<<30)
	// A first request (its answer is read by run) to fill the table.
	_ = bc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: bc.next, BlockFragment: first,
		EndStream: true, EndHeaders: true})
	bc.next += 2
	bc.warm = true
	if _, err := nc.Write(bc.bw.Bytes()); err != nil {
		b.Fatal(err)
	}
	bc.bw.Reset()
	return bc
}

// run keeps benchStreams requests in flight until left runs out.
func (bc *benchConn) run(left *atomic.Int64, wantBody int, mid func()) error {
	inflight := 0
	bodies := map[uint32]int{}
	sent := map[uint32]time.Time{}
	if bc.warm {
		inflight, bodies[1] = 1, 0
		bc.warm = false
	}
	send := func() error {
		for inflight < benchStreams && left.Add(-1) >= 0 {
			_ = bc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: bc.next, BlockFragment: bc.block,
				EndStream: true, EndHeaders: true})
			bodies[bc.next] = 0
			sent[bc.next] = time.Now()
			bc.next += 2
			inflight++
		}
		if bc.bw.Len() > 0 {
			_, err := bc.nc.Write(bc.bw.Bytes())
			bc.bw.Reset()
			return err
		}
		return nil
	}
	if err := send(); err != nil {
		return err
	}
	done := 0
	for inflight > 0 {
		f, err := bc.fr.ReadFrame()
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *http2.DataFrame:
			bodies[f.StreamID] += len(f.Data())
			bc.recv += int(f.Length)
			if f.StreamEnded() {
				if n := bodies[f.StreamID]; n != wantBody {
					return io.ErrUnexpectedEOF
				}
				delete(bodies, f.StreamID)
				if t, ok := sent[f.StreamID]; ok {
					bc.lat = append(bc.lat, time.Since(t))
					delete(sent, f.StreamID)
				}
				inflight--
				done++
				if done == 1000 {
					mid()
				}
			}
		case *http2.HeadersFrame:
			if f.StreamEnded() {
				inflight--
			}
		case *http2.RSTStreamFrame:
			return io.ErrUnexpectedEOF
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = bc.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = bc.fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			return io.ErrUnexpectedEOF
		}
		if bc.recv > 1<<29 {
			_ = bc.fr.WriteWindowUpdate(0, uint32(bc.recv))
			bc.recv = 0
		}
		if inflight < benchStreams/2 || inflight == 0 {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkServe1K: 1 KiB responses over many streams from a plain
// handler (a goroutine per request on both servers), edgefront's Server
// against net/http's HTTP/2.
func BenchmarkServe1K(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1<<10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", "1024")
		_, _ = w.Write(body)
	})
	b.Run("edgefront", func(b *testing.B) { load(b, edgefrontTarget(b, h), "/obj/1k", 1<<10) })
	b.Run("nethttp", func(b *testing.B) { load(b, netHTTPTarget(b, h), "/obj/1k", 1<<10) })
}

// BenchmarkProxyHit1K: 1 KiB cache hits through proxy.Server — answered
// from the reader goroutine (ServeFast) by edgefront's Server — against
// net/http's HTTP/2 serving the same proxy.
func BenchmarkProxyHit1K(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1<<10)
	p := proxyServer(b, body, prometheus.NewRegistry())
	// Warm the cache.
	w := httptest_recorder()
	r, _ := http.NewRequest("GET", "https://localhost/obj/1k", nil)
	p.ServeHTTP(w, r)
	b.Run("edgefront", func(b *testing.B) { load(b, edgefrontTarget(b, p), "/obj/1k", 1<<10) })
	b.Run("nethttp", func(b *testing.B) { load(b, netHTTPTarget(b, p), "/obj/1k", 1<<10) })
}

func httptest_recorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
