package origin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edgefront/edgefront/config"
)

// TestS3DefaultChain: with source: default-chain, S3 origin requests are
// signed with what the AWS SDK's default chain finds (here the environment;
// instance metadata is disabled so the test never leaves loopback), and
// without it no request is signed from the chain.
func TestS3DefaultChain(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMCHAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	backend := s3mem.New()
	if err := backend.CreateBucket("chain-bucket"); err != nil {
		t.Fatal(err)
	}
	if _, err := backend.PutObject("chain-bucket", "a.txt", map[string]string{"Content-Type": "text/plain"}, strings.NewReader("hi"), 2, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var auth string
	fake := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = r.Header.Get("Authorization")
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()

	o := &config.Origin{
		ID: "b", DomainName: "chain-bucket.s3.us-east-1.amazonaws.com",
		S3:          &config.S3Origin{Bucket: "chain-bucket", Region: "us-east-1"},
		Endpoints:   []string{srv.URL},
		Credentials: &config.Credentials{DefaultChain: true},
	}
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer f.(interface{ Close() error }).Close()
	resp, err := f.Fetch(context.Background(), &Request{Method: "GET", Path: "/a.txt", Header: http.Header{}, ContentLength: 0})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != 200 || !strings.Contains(auth, "Credential=AKIDFROMCHAIN/") {
		t.Errorf("status %d, Authorization %q: want a signature with the chain's key", resp.StatusCode, auth)
	}
}
