package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHitLatency drives 1 KiB hits through the whole edge, in
// process, as the bench's wrk does: 64 keep-alive connections, each a
// closed loop of one request at a time, over plain HTTP/1.1 and HTTPS
// HTTP/1.1 (both answered by h1). It reports the latency percentiles of
// the requests (µs) beside ns/op (the edge's and the clients' CPU, shared
// by the process's Ps). The clients allocate nothing per request, so
// allocs/op and the GC cycles (gc/op) are the edge's.
func BenchmarkHitLatency(b *testing.B) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(bytes.Repeat([]byte("x"), 1024))
	}))
	defer o.Close()
	e := testEdge(b, serveFlags{origin: o.URL})
	for _, https := range []bool{false, true} {
		name, addr := "http", e.addrs["http"]
		if https {
			name, addr = "https", e.addrs["https"]
		}
		b.Run(name, func(b *testing.B) { hitLatency(b, addr, https) })
	}
}

// hitLatency runs b.N requests for one hit over 64 connections to addr.
func hitLatency(b *testing.B, addr string, https bool) {
	const conns = 64
	req := []byte("GET /obj/1k HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if https {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
			if err := tc.Handshake(); err != nil {
				b.Fatal(err)
			}
			c = tc
		}
		defer c.Close()
		cs[i] = c
	}
	buf := make([][]byte, conns)
	for i := range buf {
		buf[i] = make([]byte, 8<<10)
		if err := roundTrip(cs[i], req, buf[i]); err != nil { // the first one stores it
			b.Fatal(err)
		}
	}
	lat := make([]int64, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	for i := range cs {
		wg.Add(1)
		go func(c net.Conn, buf []byte) {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= int64(len(lat)) {
					return
				}
				t0 := time.Now()
				if err := roundTrip(c, req, buf); err != nil {
					failed.Store(err)
					return
				}
				lat[n] = int64(time.Since(t0))
			}
		}(cs[i], buf[i])
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)]) / 1e3 }
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(0.999), "p99.9-µs")
}

// roundTrip writes req on c and reads one response into buf, whose head it
// scans for Content-Length (no allocation).
func roundTrip(c net.Conn, req, buf []byte) error {
	if _, err := c.Write(req); err != nil {
		return err
	}
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			head := buf[:i]
			j := bytes.Index(head, []byte("\r\nContent-Length: "))
			if !bytes.HasPrefix(head, []byte("HTTP/1.1 200 ")) || j < 0 {
				return fmt.Errorf("response %.200q", head)
			}
			k := j + len("\r\nContent-Length: ")
			e := k + bytes.IndexByte(head[k:], '\r')
			if e < k {
				e = len(head)
			}
			length, _ := strconv.Atoi(string(head[k:e]))
			total := i + 4 + length
			for n < total {
				m, err := c.Read(buf[n:total])
				n += m
				if err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if n == len(buf) {
			return fmt.Errorf("response head over %d bytes", len(buf))
		}
	}
}
