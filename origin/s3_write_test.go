package origin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestS3ForwardsOtherMethods: PUT, POST, PATCH, DELETE and OPTIONS go to
// the bucket, signed with the origin's credentials (SigV4, service s3), and
// S3's answer comes back ("CloudFront accepts the following requests from
// viewers and forwards them to your Amazon S3 origin: DELETE, GET, HEAD,
// OPTIONS, PATCH, POST, PUT": Developer Guide,
// RequestAndResponseBehaviorS3Origin, "HTTP methods").
func TestS3ForwardsOtherMethods(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{} // method → Authorization
	fake := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method] = r.Header.Get("Authorization")
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f := newFetcher(t, s3Origin(srv.URL))
	ctx := context.Background()

	do := func(method, path, body string) (*Response, string) {
		t.Helper()
		r := &Request{Method: method, Path: path, Header: http.Header{}, ContentLength: int64(len(body))}
		if body != "" {
			r.Body = strings.NewReader(body)
			r.Header.Set("Content-Type", "text/plain")
		}
		resp, b, err := fetchAll(ctx, f, r)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp, b
	}

	tests := []struct {
		name, method, path, body string
		wantStatus               int
		then                     func(t *testing.T)
	}{
		{"PUT stores the object in the bucket", "PUT", "/up/new.txt", "uploaded", 200, func(t *testing.T) {
			obj, err := backend.GetObject("media", "assets/up/new.txt", nil)
			if err != nil {
				t.Fatalf("the bucket lacks the object: %v", err)
			}
			defer obj.Contents.Close()
			b, _ := io.ReadAll(obj.Contents)
			want(t, "stored body", string(b), "uploaded")
			resp, body := do("GET", "/up/new.txt", "")
			want(t, "GET after PUT", resp.StatusCode, 200)
			want(t, "GET body", body, "uploaded")
		}},
		{"DELETE removes it", "DELETE", "/up/new.txt", "", 204, func(t *testing.T) {
			resp, _ := do("GET", "/up/new.txt", "")
			want(t, "GET after DELETE", resp.StatusCode, 404)
		}},
		{"OPTIONS reaches the bucket", "OPTIONS", "/up/new.txt", "", 0, nil},
		{"POST reaches the bucket", "POST", "/up/form", "a=b", 0, nil},
		{"PATCH reaches the bucket", "PATCH", "/up/new.txt", "x", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := do(tt.method, tt.path, tt.body)
			if tt.wantStatus != 0 {
				want(t, "status", resp.StatusCode, tt.wantStatus)
			}
			mu.Lock()
			auth, ok := seen[tt.method]
			mu.Unlock()
			if !ok {
				t.Fatalf("%s never reached the bucket", tt.method)
			}
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/us-east-1/s3/aws4_request") {
				t.Errorf("Authorization %q: want SigV4 with the origin's key, service s3", auth)
			}
			if tt.then != nil {
				tt.then(t)
			}
		})
	}
}
