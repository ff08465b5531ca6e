package proxy_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// BenchmarkMissStorm is one miss storm through ServeHTTP: 256 viewers ask
// at once for one cold 64 KiB object (a key of its own per iteration), so
// that most of them collapse onto one origin fetch.
func BenchmarkMissStorm(b *testing.B) {
	const viewers = 256
	body := bytes.Repeat([]byte("s"), 64<<10)
	srv := quickServer(b, body, "", 1<<30)
	ws := make([]*discardWriter, viewers)
	for i := range ws {
		ws[i] = &discardWriter{h: make(http.Header, 16)}
	}
	b.SetBytes(int64(len(body)) * viewers)
	b.ResetTimer()
	for i := range b.N {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, w := range ws {
			w.reset()
			r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:8080/storm/%d", i), nil)
			r.RemoteAddr = "127.0.0.1:40000"
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				srv.ServeHTTP(w, r)
			}()
		}
		close(start)
		wg.Wait()
		for _, w := range ws {
			if w.status != http.StatusOK || w.n != len(body) {
				b.Fatalf("status %d, %d bytes", w.status, w.n)
			}
		}
	}
}
