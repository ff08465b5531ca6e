package origin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// closeRecorder wraps a real Fetcher and records whether the body it
// returned was closed.
type closeRecorder struct {
	Fetcher
	closed atomic.Bool
}

func (c *closeRecorder) Fetch(ctx context.Context, r *Request) (*Response, error) {
	resp, err := c.Fetcher.Fetch(ctx, r)
	if err == nil {
		resp.Body = &recordClose{ReadCloser: resp.Body, closed: &c.closed}
	}
	return resp, err
}

type recordClose struct {
	io.ReadCloser
	closed *atomic.Bool
}

func (r *recordClose) Close() error {
	r.closed.Store(true)
	return r.ReadCloser.Close()
}

func TestGroup(t *testing.T) {
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	type primaryKind int
	const (
		answers primaryKind = iota
		refused
		stalls
		garbage
	)
	tests := []struct {
		name          string
		method        string
		primary       primaryKind
		primaryStatus int
		codes         []int
		wantStatus    int
		wantBody      string
		wantKind      Kind
		wantSecondary int32
	}{
		{name: "primary fine", method: "GET", primaryStatus: 200, codes: []int{500, 503},
			wantStatus: 200, wantBody: "primary"},
		{name: "failover code", method: "GET", primaryStatus: 503, codes: []int{500, 502, 503, 504},
			wantStatus: 200, wantBody: "secondary", wantSecondary: 1},
		{name: "HEAD fails over", method: "HEAD", primaryStatus: 404, codes: []int{403, 404},
			wantStatus: 200, wantBody: "", wantSecondary: 1},
		{name: "OPTIONS fails over", method: "OPTIONS", primaryStatus: 500, codes: []int{500},
			wantStatus: 200, wantBody: "secondary", wantSecondary: 1},
		{name: "code not configured", method: "GET", primaryStatus: 404, codes: []int{500, 503},
			wantStatus: 404, wantBody: "primary"},
		{name: "3xx is an answer", method: "GET", primaryStatus: 302, codes: []int{500},
			wantStatus: 302, wantBody: "primary"},
		{name: "POST never fails over", method: "POST", primaryStatus: 503, codes: []int{503},
			wantStatus: 503, wantBody: "primary"},
		{name: "PUT never fails over", method: "PUT", primaryStatus: 500, codes: []int{500},
			wantStatus: 500, wantBody: "primary"},
		{name: "primary unreachable", method: "GET", primary: refused, codes: []int{500},
			wantStatus: 200, wantBody: "secondary", wantSecondary: 1},
		{name: "primary times out", method: "GET", primary: stalls, codes: []int{500},
			wantStatus: 200, wantBody: "secondary", wantSecondary: 1},
		{name: "POST to an unreachable primary", method: "POST", primary: refused, codes: []int{500},
			wantKind: Connect},
		{name: "garbage is not a failover reason", method: "GET", primary: garbage, codes: []int{500, 502},
			wantKind: Protocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var endpoint string
			switch tt.primary {
			case answers:
				endpoint = newTestOrigin(t, false, status(tt.primaryStatus, "primary")).URL
			case refused:
				endpoint = closedPortURL(t)
			case stalls:
				endpoint = newRawOrigin(t, stallHeaders).URL()
			case garbage:
				endpoint = newRawOrigin(t, answerGarbage).URL()
			}
			po := customOrigin(endpoint)
			po.ID, po.ConnectionAttempts = "primary", 1
			po.Custom.ReadTimeout = 300 * time.Millisecond
			primary := &closeRecorder{Fetcher: newFetcher(t, po)}
			sec := newTestOrigin(t, false, status(200, "secondary"))
			so := customOrigin(sec.URL)
			so.ID = "secondary"
			g := NewGroup(&config.OriginGroup{ID: "group", Members: []string{"primary", "secondary"}, FailoverCodes: tt.codes},
				primary, newFetcher(t, so))
			t.Cleanup(func() { g.(io.Closer).Close() })

			r := get("/obj")
			r.Method = tt.method
			if tt.method == "POST" || tt.method == "PUT" {
				r.Body, r.ContentLength = strings.NewReader("x"), 1
			}
			resp, body, err := fetchAll(context.Background(), g, r)
			if tt.wantKind != 0 {
				if got := kindOf(err); got != tt.wantKind {
					t.Fatalf("error %v: Kind = %v, want %v", err, got, tt.wantKind)
				}
			} else {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				want(t, "status", resp.StatusCode, tt.wantStatus)
				want(t, "body", body, tt.wantBody)
			}
			want(t, "secondary hits", sec.hits.Load(), tt.wantSecondary)
			if tt.wantSecondary > 0 && tt.primary == answers && !primary.closed.Load() {
				t.Error("the primary's unused response was not closed")
			}
		})
	}
}

func TestGroupS3PrimaryFailsOverOnMissingKey(t *testing.T) {
	endpoint := fakeS3(t, nil)
	primary := newFetcher(t, s3Origin(endpoint))
	sec := newTestOrigin(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fallback") })
	g := NewGroup(&config.OriginGroup{ID: "g", FailoverCodes: []int{403, 404}}, primary, newFetcher(t, customOrigin(sec.URL)))
	resp, body, err := fetchAll(context.Background(), g, get("/missing.txt"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	want(t, "status", resp.StatusCode, 200)
	want(t, "body", body, "fallback")
	want(t, "secondary path", sec.last(t).RequestURI, "/missing.txt")
}
