package h2

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
var testCert = sync.OnceValue(func() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edgefront test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
})

// testServer is a Server behind a TLS listener on loopback, as the TLS
// accept loop will run it: handshake, then ServeConn.
type testServer struct {
	*Server
	addr  string
	ln    net.Listener
	wg    sync.WaitGroup
	conns chan struct{} // one value per connection ServeConn returned from
}

func newTestServer(t testing.TB, h http.Handler, configure ...func(*Server)) *testServer {
	t.Helper()
	s := &Server{Handler: h, ErrorLog: discardLog(t)}
	for _, f := range configure {
		f(s)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{testCert()}, NextProtos: []string{"h2"}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, addr: ln.Addr().String(), ln: ln, conns: make(chan struct{}, 1024)}
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ts.wg.Add(1)
			go func() {
				defer ts.wg.Done()
				tc := c.(*tls.Conn)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := tc.HandshakeContext(ctx)
				cancel()
				if err != nil {
					_ = c.Close()
					return
				}
				s.ServeConn(c)
				select {
				case ts.conns <- struct{}{}:
				default:
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		_ = s.Close()
		ts.wg.Wait()
	})
	return ts
}

// discardLog is a logger writing to the test's log while it runs.
func discardLog(t testing.TB) *log.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return log.New(w, "", 0)
}

type testWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Logf("server: %s", bytes.TrimSpace(p))
	}
	return len(p), nil
}

// client is an HTTP/2 client (x/net's Transport) for ts.
func (ts *testServer) client() *http.Client {
	tr := &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}}
	return &http.Client{Transport: tr}
}

func (ts *testServer) url(path string) string { return "https://" + ts.addr + path }

// rawConn is a client speaking frames directly to the server.
type rawConn struct {
	t   testing.TB
	nc  net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	hb  bytes.Buffer
	dec *hpack.Decoder
	// passive: read answers nothing (another goroutine writes frames).
	passive bool
}

// dialRaw opens a TLS connection with ALPN h2, without the preface.
func (ts *testServer) dialRaw(t testing.TB) *rawConn {
	t.Helper()
	nc, err := tls.Dial("tcp", ts.addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	rc := &rawConn{t: t, nc: nc}
	rc.fr = http2.NewFramer(nc, nc)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	rc.fr.MaxHeaderListSize = 1 << 20
	rc.enc = hpack.NewEncoder(&rc.hb)
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return rc
}

// dial opens a connection and exchanges the preface and SETTINGS.
func (ts *testServer) dial(t testing.TB) *rawConn {
	t.Helper()
	rc := ts.dialRaw(t)
	rc.preface()
	return rc
}

func (rc *rawConn) preface() {
	rc.t.Helper()
	if _, err := io.WriteString(rc.nc, http2.ClientPreface); err != nil {
		rc.t.Fatal(err)
	}
	if err := rc.fr.WriteSettings(); err != nil {
		rc.t.Fatal(err)
	}
}

// headers encodes fields: name, value pairs.
func (rc *rawConn) block(kv ...string) []byte {
	rc.hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = rc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), rc.hb.Bytes()...)
}

// get sends a GET for path on stream id.
func (rc *rawConn) get(id uint32, path string, extra ...string) {
	rc.t.Helper()
	kv := append([]string{":method", "GET", ":scheme", "https", ":path", path, ":authority", "localhost"}, extra...)
	if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.block(kv...),
		EndStream: true, EndHeaders: true}); err != nil {
		rc.t.Fatal(err)
	}
}

// response is what a raw client saw on one stream.
type response struct {
	status   string
	header   map[string]string
	body     []byte
	trailer  map[string]string
	rst      http2.ErrCode
	wasReset bool
	ended    bool
}

// readUntil reads frames until done says stop, collecting per-stream
// responses; it returns them and the GOAWAY (nil when none), and whether
// the connection ended.
type frameLog struct {
	streams      map[uint32]*response
	goAway       *http2.GoAwayFrame
	eof          bool
	pings        int
	settingsAcks int
	frames       int
}

func (rc *rawConn) read(done func(*frameLog) bool) *frameLog {
	rc.t.Helper()
	l := &frameLog{streams: map[uint32]*response{}}
	get := func(id uint32) *response {
		r := l.streams[id]
		if r == nil {
			r = &response{header: map[string]string{}}
			l.streams[id] = r
		}
		return r
	}
	for !done(l) {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				rc.t.Fatalf("timed out reading frames: %+v", l)
			}
			l.eof = true
			return l
		}
		l.frames++
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			r := get(f.StreamID)
			if r.status != "" && f.PseudoValue("status") == "" {
				r.trailer = map[string]string{}
				for _, hf := range f.RegularFields() {
					r.trailer[hf.Name] = hf.Value
				}
			} else if s := f.PseudoValue("status"); s != "" && s[0] != '1' {
				r.status = s
				for _, hf := range f.RegularFields() {
					r.header[hf.Name] = hf.Value
				}
			}
			if f.StreamEnded() {
				r.ended = true
			}
		case *http2.DataFrame:
			r := get(f.StreamID)
			r.body = append(r.body, f.Data()...)
			if f.StreamEnded() {
				r.ended = true
			}
			if n := len(f.Data()); n > 0 && !rc.passive {
				_ = rc.fr.WriteWindowUpdate(0, uint32(n))
				_ = rc.fr.WriteWindowUpdate(f.StreamID, uint32(n))
			}
		case *http2.RSTStreamFrame:
			r := get(f.StreamID)
			r.wasReset, r.rst = true, f.ErrCode
		case *http2.GoAwayFrame:
			l.goAway = f
		case *http2.PingFrame:
			if !f.IsAck() {
				l.pings++
				if !rc.passive {
					_ = rc.fr.WritePing(true, f.Data)
				}
			}
		case *http2.SettingsFrame:
			if f.IsAck() {
				l.settingsAcks++
			} else if !rc.passive {
				_ = rc.fr.WriteSettingsAck()
			}
		}
	}
	return l
}

// untilEnded stops once streams ids ended or were reset.
func untilEnded(ids ...uint32) func(*frameLog) bool {
	return func(l *frameLog) bool {
		for _, id := range ids {
			r := l.streams[id]
			if r == nil || !r.ended && !r.wasReset {
				return false
			}
		}
		return true
	}
}

// untilGoAway stops at GOAWAY or the connection's end.
func untilGoAway(l *frameLog) bool { return l.goAway != nil || l.eof }

// untilEOF stops when the connection ends.
func untilEOF(l *frameLog) bool { return l.eof }
