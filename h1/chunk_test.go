package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzChunkScanner: the chunk scanner never panics, reads a body the same
// in pieces as whole, and wherever it finds the end of a body it accepts,
// net/http's chunked reader (with its trailer) ends there too — the
// guarded connection never loses track of where the next request starts.
func FuzzChunkScanner(f *testing.F) {
	f.Add([]byte("3\r\nabc\r\n0\r\n\r\n"), uint16(4))
	f.Add([]byte("3;n=v\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\nGET"), uint16(20))
	f.Add([]byte("3;"+strings.Repeat("a", maxChunkExtension)+"\r\nabc\r\n0\r\n\r\n"), uint16(100))
	f.Add([]byte("0000000000000003\r\nabc\r\n0\r\n\r\n"), uint16(0))
	f.Add([]byte("3\r\nabc\n0\r\n\r\n"), uint16(1))
	const head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	f.Fuzz(func(t *testing.T, body []byte, cut uint16) {
		var whole chunkScanner
		n, done, err := whole.scan(body)
		var parts chunkScanner
		c := min(int(cut), len(body))
		n1, done1, err1 := parts.scan(body[:c])
		if err1 == nil && !done1 {
			var n2 int
			n2, done1, err1 = parts.scan(body[c:])
			n1 += n2
		}
		if (err == nil) != (err1 == nil) || err == nil && (n != n1 || done != done1) {
			t.Fatalf("whole: %d %v %v; in pieces at %d: %d %v %v", n, done, err, c, n1, done1, err1)
		}
		if err != nil {
			return // refused: whatever net/http would do, the connection ends
		}
		r := bytes.NewReader(append([]byte(head), body...))
		br := bufio.NewReader(r)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return // net/http refuses the body: the connection ends
		}
		consumed := len(body) - br.Buffered() - r.Len()
		if !done || n != consumed {
			t.Fatalf("%q: the scanner ends the body at %d (done %v), net/http at %d", body, n, done, consumed)
		}
	})
}
