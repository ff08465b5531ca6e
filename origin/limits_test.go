package origin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// CloudFront refuses an origin response whose head is longer than 20,480
// bytes ("Maximum length of a request or an origin response, including
// headers and query strings, but not including the body content": Developer
// Guide, cloudfront-limits) — the viewer gets 502.
func TestHTTPResponseHeaderLimit(t *testing.T) {
	tests := []struct {
		name       string
		valueLen   int // of one X-Big header
		wantStatus int // 200 from the origin, or the viewer's 502
	}{
		{"head well under the quota", 1000, 200},
		{"head just under the quota", MaxResponseHeaderBytes - 400, 200},
		{"head over the quota", MaxResponseHeaderBytes + 1, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestOrigin(t, false, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Big", strings.Repeat("a", tt.valueLen))
				_, _ = io.WriteString(w, "ok")
			})
			f := newFetcher(t, customOrigin(srv.URL))
			resp, body, err := fetchAll(context.Background(), f, get("/x"))
			if tt.wantStatus == 200 {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				want(t, "status", resp.StatusCode, 200)
				want(t, "body", body, "ok")
				return
			}
			if err == nil {
				t.Fatalf("Fetch: status %d, want an error", resp.StatusCode)
			}
			want(t, "kind", kindOf(err), Protocol)
			want(t, "viewer status", StatusOf(err), tt.wantStatus)
		})
	}
}

// ResponseCompletionTimeout: "If the complete response isn't received from
// the origin by this time, CloudFront ends the connection" (API Reference,
// Origin; Developer Guide, DownloadDistValuesOrigin "Response completion
// timeout"). Before the headers the viewer gets 504; after them the body
// read fails with Timeout and the proxy cuts the viewer's connection.
func TestHTTPResponseCompletionTimeout(t *testing.T) {
	// The origin answers at once, then sends a byte every 20 ms for 60
	// bytes (1.2 s): never idle for the read timeout, slower than 300 ms.
	trickle := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "60")
		w.WriteHeader(200)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range 60 {
			<-tick.C
			if _, err := io.WriteString(w, "x"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
	tests := []struct {
		name       string
		completion time.Duration
		wantErr    bool
	}{
		{"no completion timeout: the slow body arrives", 0, false},
		{"completion timeout cuts the body", 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestOrigin(t, false, trickle)
			o := customOrigin(srv.URL)
			o.ResponseCompletionTimeout = tt.completion
			f := newFetcher(t, o)
			start := time.Now()
			resp, body, err := fetchAll(context.Background(), f, get("/x"))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				want(t, "body length", len(body), 60)
				return
			}
			if resp == nil {
				t.Fatalf("Fetch: %v, want the headers then a failed body", err)
			}
			want(t, "kind", kindOf(err), Timeout)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("body failed after %v, want about %v", elapsed, tt.completion)
			}
		})
	}

	t.Run("before the headers: 504", func(t *testing.T) {
		t.Parallel()
		o := customOrigin(newRawOrigin(t, stallHeaders).URL())
		o.ConnectionAttempts = 1
		o.Custom.ReadTimeout = 5 * time.Second
		o.ResponseCompletionTimeout = 200 * time.Millisecond
		f := newFetcher(t, o)
		_, err := f.Fetch(context.Background(), get("/x"))
		want(t, "kind", kindOf(err), Timeout)
		want(t, "viewer status", StatusOf(err), http.StatusGatewayTimeout)
	})
}
