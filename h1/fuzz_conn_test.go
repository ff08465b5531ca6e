package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzConn sends arbitrary bytes on a connection, then ends its writing
// side: the server never panics and never hangs — it answers with
// well-formed HTTP/1.x responses, as many as it read requests, and closes.
func FuzzConn(f *testing.F) {
	for _, head := range seedHeads(f) {
		f.Add([]byte(head))
		f.Add([]byte(head + head))        // pipelined
		f.Add([]byte(head[:len(head)/2])) // cut short
	}
	f.Add([]byte("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	for _, a := range attackSeeds() {
		f.Add([]byte(a + second))
		f.Add([]byte("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi" + a + second)) // after a handover
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	quiet := log.New(io.Discard, "", 0)
	s := &Server{Handler: echo, General: &http.Server{Handler: echo, ErrorLog: quiet, ReadHeaderTimeout: time.Second},
		ReadHeaderTimeout: time.Second, IdleTimeout: time.Second, ErrorLog: quiet}
	go s.Serve(ln)
	f.Cleanup(func() { s.Close() })
	addr := ln.Addr().String()

	f.Fuzz(func(t *testing.T, in []byte) {
		c := dial(t, addr)
		if _, err := c.Write(in); err != nil {
			return // the server may close before reading it all
		}
		_ = c.(*net.TCPConn).CloseWrite()
		// The methods of the requests as net/http reads them, so that a
		// HEAD's response is read without a body.
		var methods []string
		rr := bufio.NewReader(bytes.NewReader(in))
		for len(methods) < 64 {
			req, err := http.ReadRequest(rr)
			if err != nil {
				break
			}
			methods = append(methods, req.Method)
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				break
			}
		}
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			var req *http.Request
			if i < len(methods) {
				req = &http.Request{Method: methods[i]}
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("the server neither answered nor closed before the deadline: %q", in)
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
					strings.Contains(err.Error(), "connection reset") {
					return
				}
				t.Fatalf("malformed response (%v) to %q", err, in)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("response body never ended: %q", in)
				}
				return
			}
			resp.Body.Close()
			if resp.Close {
				// The last response (net/http's answers to requests it
				// refuses are written whatever the method was).
				return
			}
		}
	})
}
