package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counting serves echo and counts the requests that reached the handler.
func counting(n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		echo.ServeHTTP(w, r)
	})
}

// answers writes raw on a new connection, reads until the server closes
// it, and returns the status and body of each response it read. It fails
// the test if the connection is still open after the dial deadline.
func answers(t *testing.T, addr, raw string) (statuses []int, bodies []string) {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after the deadline; read %q", all)
	}
	br := bufio.NewReader(bytes.NewReader(all))
	for {
		if _, err := br.Peek(1); err != nil {
			return statuses, bodies
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("malformed response after %d (%v) in %q", len(statuses), err, all)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", len(statuses), err)
		}
		statuses, bodies = append(statuses, resp.StatusCode), append(bodies, string(b))
	}
}

// attackSeeds are requests every server must refuse, for the fuzz
// targets' corpora.
func attackSeeds() []string {
	chunked := "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	return []string{
		"GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\n\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
		chunked + "3;" + strings.Repeat("a", maxChunkExtension) + "\r\nabc\r\n0\r\n\r\n",
		chunked + "3\r\nabc\n0\r\n\r\n",
		chunked + "3\r\nabc\r\n0\r\nX: a\r\n b\r\n\r\n",
	}
}

// second is a harmless request pipelined behind each attack: it must never
// be answered.
const second = "GET /second HTTP/1.1\r\nHost: h\r\n\r\n"

// refusedTest sends an attack and a pipelined second request: the attack
// gets a 400, the second no answer, the handler never runs, and the server
// closes the connection.
func refusedTest(t *testing.T, attack string) {
	t.Helper()
	var n atomic.Int64
	ts := start(t, counting(&n))
	statuses, bodies := answers(t, ts.addr, attack+second)
	if len(statuses) != 1 || statuses[0] != http.StatusBadRequest {
		t.Fatalf("statuses %v (bodies %q), want one 400 then a close", statuses, bodies)
	}
	if got := n.Load(); got != 0 {
		t.Fatalf("the handler ran %d times, want never", got)
	}
}

// TestHTTP10TransferEncodingCloses: Transfer-Encoding on HTTP/1.0 (which
// net/http ignores, reading what follows as the next request) is refused
// and the connection closed (RFC 9112 §6.1).
func TestHTTP10TransferEncodingCloses(t *testing.T) {
	refusedTest(t, "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n")
}

// TestTEAndCLCloses: a request with both Transfer-Encoding and
// Content-Length is refused and the connection closed (RFC 9112 §6.1).
func TestTEAndCLCloses(t *testing.T) {
	refusedTest(t, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
}

// TestBareLFRefused: a line ending in LF alone, which net/http accepts as
// a line end, is refused.
func TestBareLFRefused(t *testing.T) {
	for name, attack := range map[string]string{
		"header":       "GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n",
		"request line": "GET / HTTP/1.1\nHost: h\r\n\r\n",
		"bare CR":      "GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) { refusedTest(t, attack) })
	}
}

// TestLFOnlyRequestAnsweredPromptly: a request written wholly with LF line
// ends is refused as soon as its first line is read, not left waiting for
// a CRLF CRLF until the header timeout.
func TestLFOnlyRequestAnsweredPromptly(t *testing.T) {
	var n atomic.Int64
	ts := start(t, counting(&n)) // header timeout 5 s
	c := dial(t, ts.addr)
	begin := time.Now()
	io.WriteString(c, "GET / HTTP/1.1\nHost: h\n\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer (%v) after %v", err, time.Since(begin))
	}
	if took := time.Since(begin); resp.StatusCode != http.StatusBadRequest || took > 2*time.Second {
		t.Fatalf("status %d after %v, want 400 at once", resp.StatusCode, took)
	}
}

// TestObsFoldRefused: a header continued on an indented line (obs-fold),
// which net/http joins to the previous value, is refused.
func TestObsFoldRefused(t *testing.T) {
	refusedTest(t, "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n")
}

// TestUnderscoreTransferEncodingRefused: framing and connection header
// names spelt with '_' for '-' — which some origins (CGI-style) read as
// the real header — are refused; h1 would otherwise answer them itself.
func TestUnderscoreTransferEncodingRefused(t *testing.T) {
	for name, attack := range map[string]string{
		"Transfer_Encoding": "POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
		"content_length":    "GET / HTTP/1.1\r\nHost: h\r\ncontent_length: 5\r\n\r\n",
		"Proxy_Connection":  "GET / HTTP/1.1\r\nHost: h\r\nProxy_Connection: close\r\n\r\n",
		"NUL in name":       "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding\x00: chunked\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) { refusedTest(t, attack) })
	}
	t.Run("other names pass", func(t *testing.T) {
		ts := start(t, echo)
		statuses, _ := answers(t, ts.addr, "GET / HTTP/1.1\r\nHost: h\r\nX_Custom: 1\r\nConnection: close\r\n\r\n")
		if len(statuses) != 1 || statuses[0] != 200 {
			t.Fatalf("statuses %v, want 200", statuses)
		}
	})
}

// TestAsteriskFormRefused: the asterisk-form target is refused on any
// method but OPTIONS.
func TestAsteriskFormRefused(t *testing.T) {
	refusedTest(t, "GET * HTTP/1.1\r\nHost: h\r\n\r\n")
	t.Run("OPTIONS", func(t *testing.T) {
		ts := start(t, echo)
		statuses, _ := answers(t, ts.addr, "OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		if len(statuses) != 1 || statuses[0] != 200 {
			t.Fatalf("statuses %v, want 200", statuses)
		}
	})
}

// TestConnectRefused: CONNECT, which an edge never tunnels, is refused,
// whatever its target.
func TestConnectRefused(t *testing.T) {
	for name, attack := range map[string]string{
		"authority-form": "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
		"origin-form":    "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) { refusedTest(t, attack) })
	}
}

// TestChunkExtensionLimit: a chunk extension longer than maxChunkExtension
// (or a malformed chunk line) is refused before the handler — which would
// start the origin request — sees the request; a short one is served.
func TestChunkExtensionLimit(t *testing.T) {
	head := "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	for name, attack := range map[string]string{
		"long extension":     head + "3;" + strings.Repeat("a", maxChunkExtension) + "\r\nabc\r\n0\r\n\r\n",
		"last chunk":         head + "3\r\nabc\r\n0;" + strings.Repeat("a", maxChunkExtension) + "\r\n\r\n",
		"LF in extension":    head + "3;a\nb\r\nabc\r\n0\r\n\r\n",
		"bare LF after data": head + "3\r\nabc\n0\r\n\r\n",
		"no size":            head + ";a\r\nabc\r\n0\r\n\r\n",
		"blank before ';'":   head + "3 ;a\r\nabc\r\n0\r\n\r\n",
		"obs-fold trailer":   head + "3\r\nabc\r\n0\r\nX: a\r\n b\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) { refusedTest(t, attack) })
	}
	t.Run("short extension and trailer", func(t *testing.T) {
		var n atomic.Int64
		ts := start(t, counting(&n))
		statuses, bodies := answers(t, ts.addr, head+"3;"+strings.Repeat("a", maxChunkExtension-1)+
			"\r\nabc\r\n2;q=\"x\"\r\nde\r\n0\r\nX-T: 1\r\n\r\n"+"GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		if len(statuses) != 2 || statuses[0] != 200 || !strings.Contains(bodies[0], "body=abcde ") || n.Load() != 2 {
			t.Fatalf("statuses %v bodies %q, handler ran %d times", statuses, bodies, n.Load())
		}
	})
}

// TestRefusedAfterHandover: once a connection went to the general server
// (a request with a body), the requests after it are held to the same
// rules: an attack gets a 400 and a close, and what follows is not served.
func TestRefusedAfterHandover(t *testing.T) {
	first := "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
	for name, attack := range map[string]string{
		"obs-fold":          "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
		"bare LF":           "GET / HTTP/1.1\nHost: h\n\n",
		"HTTP/1.0 TE":       "GET / HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
		"TE and CL":         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"CONNECT":           "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
		"chunk extension":   "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("a", 300) + "\r\nx\r\n0\r\n\r\n",
		"Transfer_Encoding": "POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int64
			ts := start(t, counting(&n))
			statuses, bodies := answers(t, ts.addr, first+attack+second)
			if len(statuses) != 2 || statuses[0] != 200 || statuses[1] != http.StatusBadRequest {
				t.Fatalf("statuses %v (bodies %q), want 200, 400, then a close", statuses, bodies)
			}
			if got := n.Load(); got != 1 {
				t.Fatalf("the handler ran %d times, want once", got)
			}
		})
	}
}

// TestChunkedBodies: chunked request bodies, within and beyond what is
// checked before the handler runs, reach it whole, and the connection
// goes on.
func TestChunkedBodies(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %v", len(b), err)
	}))
	for _, size := range []int{1, 1000, chunkLookahead + 5000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var req strings.Builder
			req.WriteString("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
			for left := size; left > 0; left -= 1000 {
				k := min(left, 1000)
				fmt.Fprintf(&req, "%x;n=1\r\n%s\r\n", k, strings.Repeat("b", k))
			}
			req.WriteString("0\r\n\r\n")
			_, bodies := exchange(t, ts.addr, req.String()+req.String(), 2, "POST")
			for _, b := range bodies {
				if want := fmt.Sprintf("%d <nil>", size); b != want {
					t.Fatalf("handler read %q, want %q", b, want)
				}
			}
		})
	}
}

// TestSlowBodyCutOff: a request body trickling in more slowly than
// BodyTimeout allows is cut off and the connection closed, whether the
// connection was handed over with it or the body is being checked first.
func TestSlowBodyCutOff(t *testing.T) {
	for name, head := range map[string]string{
		"Content-Length": "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n",
		"chunked":        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			quiet := log.New(io.Discard, "", 0)
			s := &Server{Handler: echo, General: &http.Server{Handler: echo, ErrorLog: quiet},
				ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute, BodyTimeout: 200 * time.Millisecond,
				ErrorLog: quiet}
			go s.Serve(ln)
			t.Cleanup(func() { s.Close() })
			c := dial(t, ln.Addr().String())
			begin := time.Now()
			io.WriteString(c, head)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // a byte every 50 ms: 100 bytes would take 5 s
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}()
			_, err = io.ReadAll(c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("not closed: %v", err)
			}
			if took := time.Since(begin); took < 150*time.Millisecond || took > 2*time.Second {
				t.Fatalf("closed after %v (%v); want after about 200 ms", took, err)
			}
		})
	}
}

// TestSlowChunkedBodyWithinPace: a chunked body that keeps BodyTimeout's
// pace is served even when it takes longer than the general server's
// header timeout to arrive while it is checked before its handler runs,
// and a body that waits for 100 Continue gets it.
func TestSlowChunkedBodyWithinPace(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quiet := log.New(io.Discard, "", 0)
	s := &Server{Handler: echo, General: &http.Server{Handler: echo, ErrorLog: quiet, ReadHeaderTimeout: 100 * time.Millisecond},
		ReadHeaderTimeout: time.Second, IdleTimeout: time.Minute, BodyTimeout: 5 * time.Second, ErrorLog: quiet}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	t.Run("slow", func(t *testing.T) {
		c := dial(t, ln.Addr().String())
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
		time.Sleep(300 * time.Millisecond) // the viewer pauses: 3 header timeouts
		io.WriteString(c, "2\r\nde\r\n0\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "body=abcde ") {
			t.Fatalf("got %d %q", resp.StatusCode, b)
		}
	})
	t.Run("100-continue", func(t *testing.T) {
		c := dial(t, ln.Addr().String())
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusContinue {
			t.Fatalf("want 100 Continue first: %v %v", resp, err)
		}
		io.WriteString(c, "3\r\nabc\r\n0\r\n\r\n")
		if resp, err = http.ReadResponse(br, nil); err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "body=abc ") {
			t.Fatalf("got %d %q", resp.StatusCode, b)
		}
	})
}
