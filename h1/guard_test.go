package h1

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGuardConnPieces: a guarded connection gives net/http exactly the
// checked bytes of a stream, whatever pieces it arrives in (a byte at a
// time here), and fails at a refusal after at most the first four bytes
// of the refused head.
func TestGuardConnPieces(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	chunked := "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	tests := []struct {
		name, in, want string
		refused        bool
	}{
		{"length body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" + get, "", false},
		{"chunked body", chunked + "3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n" + get, "", false},
		{"100-continue", strings.Replace(chunked, "\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n", 1) + "1\r\na\r\n0\r\n\r\n", "", false},
		{"empty lines dropped", "\r\n\r\n" + get, get, false},
		{"bare LF", get + "GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n", get + "GET ", true},
		{"bare CR", "GET / HTTP/1.1\rHost: h\r\n\r\n", "GET ", true},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n 2\r\n\r\n", "GET ", true},
		{"checked before the head goes", chunked + "3;" + strings.Repeat("e", maxChunkExtension) + "\r\nabc\r\n0\r\n\r\n", "POST", true},
		{"bad chunk end", chunked + "3\r\nabcd\r\n0\r\n\r\n", "POST", true},
		{"head too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("v", 5000), "GET ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			viewer, server := net.Pipe()
			defer viewer.Close()
			g := newGuardConn(&Server{General: &http.Server{MaxHeaderBytes: 100}}, server, nil)
			defer g.Close()
			go func() {
				for i := 0; i < len(tt.in); i++ {
					if _, err := viewer.Write([]byte{tt.in[i]}); err != nil {
						return
					}
				}
				viewer.Close()
			}()
			g.SetReadDeadline(time.Now().Add(5 * time.Second))
			var got []byte
			buf := make([]byte, 7)
			var err error
			for err == nil {
				var n int
				n, err = g.Read(buf)
				got = append(got, buf[:n]...)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if string(got) != want || errors.Is(err, errMalformed) != tt.refused || !tt.refused && err != io.EOF {
				t.Fatalf("gave %q then %v; want %q, refused %v", got, err, want, tt.refused)
			}
		})
	}
}
