package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSendfile: a body handed to ReadFrom as a LimitedReader over a file
// goes out with sendfile (counted), whole or as a section at an offset,
// keep-alive working after it; other readers and responses without a length
// are copied (not counted), with the same bytes.
func TestSendfile(t *testing.T) {
	content := make([]byte, 300_000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		off, n     int64
		length     bool // Content-Length set
		file       bool // the reader is a file
		head       bool
		sendfile   bool
		wantStatus int
	}{
		{name: "whole file", off: 0, n: 300_000, length: true, file: true, sendfile: true},
		{name: "section", off: 1000, n: 5000, length: true, file: true, sendfile: true},
		{name: "no length: chunked copy", off: 10, n: 70_000, file: true},
		{name: "not a file", off: 0, n: 70_000, length: true},
		{name: "HEAD", off: 0, n: 300_000, length: true, file: true, head: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.length {
					w.Header().Set("Content-Length", strconv.FormatInt(tc.n, 10))
				}
				var src io.Reader
				if tc.file {
					f, err := os.Open(path)
					if err != nil {
						t.Error(err)
						return
					}
					defer f.Close()
					_, _ = f.Seek(tc.off, io.SeekStart)
					src = &io.LimitedReader{R: f, N: tc.n}
				} else {
					src = &io.LimitedReader{R: bytes.NewReader(content[tc.off:]), N: tc.n}
				}
				if r.Method == http.MethodHead {
					return
				}
				n, err := w.(io.ReaderFrom).ReadFrom(src)
				if err != nil || n != tc.n {
					t.Errorf("ReadFrom = %d, %v; want %d", n, err, tc.n)
				}
			}))
			method := http.MethodGet
			if tc.head {
				method = http.MethodHead
			}
			c := dial(t, ts.addr)
			br := bufio.NewReader(c)
			for range 2 { // keep-alive: the second response follows the first
				if _, err := io.WriteString(c, method+" / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(br, &http.Request{Method: method})
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				want := content[tc.off : tc.off+tc.n]
				if tc.head {
					want = nil
				}
				if !bytes.Equal(got, want) {
					t.Errorf("body: %d bytes, want %d (equal: %v)", len(got), len(want), bytes.Equal(got, want))
				}
			}
			want := int64(0)
			if tc.sendfile {
				want = 2
			}
			if got := ts.SendfileWrites(); got != want {
				t.Errorf("sendfile writes = %d, want %d", got, want)
			}
		})
	}
}

// TestSendfileShortFile: a file shorter than the length announced ends the
// connection after what it had: the viewer sees a short body, never a
// complete response.
func TestSendfileShortFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := w.(io.ReaderFrom).ReadFrom(&io.LimitedReader{R: f, N: 5000}); err == nil {
			t.Error("ReadFrom of a short file: no error")
		}
	}))
	c := dial(t, ts.addr)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || n != 1000 {
		t.Errorf("read %d bytes, err %v; want 1000 and an unexpected EOF", n, err)
	}
}

// TestSendFileShared: SendFile sends sections of one shared descriptor to
// concurrent connections with sendfile at explicit offsets (counted), each
// viewer getting its own bytes — 4 MiB each, more than a socket buffer, so
// the sends wait for the socket — and the descriptor's position unmoved.
func TestSendFileShared(t *testing.T) {
	content := make([]byte, 5<<20)
	for i := range content {
		content[i] = byte(i*13 + i>>12)
	}
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const n = 4 << 20
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.ParseInt(r.URL.Query().Get("off"), 10, 64)
		w.Header().Set("Content-Length", strconv.Itoa(n))
		if k, err := w.(interface {
			SendFile(*os.File, int64, int64) (int64, error)
		}).SendFile(f, off, n); err != nil || k != n {
			t.Errorf("SendFile = %d, %v", k, err)
		}
	}))
	offsets := []int64{0, 12345, 1 << 20}
	done := make(chan struct{})
	for _, off := range offsets {
		go func() {
			defer func() { done <- struct{}{} }()
			resp, err := http.Get("http://" + ts.addr + "/?off=" + strconv.FormatInt(off, 10))
			if err != nil {
				t.Error(err)
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(got, content[off:off+n]) {
				t.Errorf("offset %d: %d bytes, err %v (equal %v)", off, len(got), err, bytes.Equal(got, content[off:off+n]))
			}
		}()
	}
	for range offsets {
		<-done
	}
	if got := ts.SendfileWrites(); got != int64(len(offsets)) {
		t.Errorf("sendfile writes = %d, want %d", got, len(offsets))
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Errorf("the shared descriptor moved to %d", pos)
	}
}
