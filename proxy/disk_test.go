package proxy

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgefront/edgefront/cache"
)

// TestServeFromFileCutShortAborts: a body read from a disk file that ends
// early (the file cut short under the open descriptor: an I/O error in
// effect) aborts the response (http.ErrAbortHandler: the connection is
// cut) rather than ending it as if complete — whole, one range, several.
func TestServeFromFileCutShortAborts(t *testing.T) {
	for _, tc := range []struct{ name, rng string }{
		{"whole", ""},
		{"one range", "bytes=60000-70000"},
		{"multipart", "bytes=0-10,60000-70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := cache.New(cache.Options{MaxBytes: 1 << 20, MaxObjectSize: 1, Disk: &cache.DiskOptions{Path: dir, MaxBytes: 1 << 30}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Set("k", cache.NewEntry(cache.Entry{Status: 200, Distribution: "E1", Path: "/k", StoredNano: time.Now().UnixNano(), TTL: time.Hour}, bytes.Repeat([]byte("x"), 100_000), cache.Extra{}))
			s.WaitDisk()
			e, ok := s.Get("k")
			if !ok || !e.OnDisk() {
				t.Fatal("not a disk hit")
			}
			body, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
			for _, f := range files {
				if err := os.Truncate(f, 50_000); err != nil {
					t.Fatal(err)
				}
			}
			r := httptest.NewRequest(http.MethodGet, "/k", nil)
			if tc.rng != "" {
				r.Header.Set("Range", tc.rng)
			}
			w := httptest.NewRecorder()
			defer func() {
				if v := recover(); v != http.ErrAbortHandler {
					t.Errorf("recovered %v, want http.ErrAbortHandler", v)
				}
			}()
			serveRangeFrom(w, r, http.StatusOK, e.Header, body)
			t.Errorf("a short file was served as complete: %d, %d bytes", w.Code, w.Body.Len())
		})
	}
}
