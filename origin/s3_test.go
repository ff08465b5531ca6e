package origin

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/edgefront/edgefront/config"
)

// fakeS3 serves an in-memory S3 on 127.0.0.1 holding bucket "media".
func fakeS3(t *testing.T, objects map[string]map[string]string) string {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	for key, meta := range objects {
		body := meta["body"]
		delete(meta, "body")
		if _, err := backend.PutObject("media", key, meta, strings.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	return srv.URL
}

func s3Origin(endpoint string) *config.Origin {
	return &config.Origin{
		ID:                 "media-bucket",
		DomainName:         "media.s3.us-east-1.amazonaws.com",
		OriginPath:         "/assets",
		S3:                 &config.S3Origin{Bucket: "media", Region: "us-east-1"},
		ConnectionAttempts: 2,
		ConnectionTimeout:  time.Second,
		Endpoints:          []string{endpoint},
		Credentials:        &config.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"},
	}
}

func TestS3Fetch(t *testing.T) {
	const content = "hello, world"
	sum := md5.Sum([]byte(content))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	modified := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	endpoint := fakeS3(t, map[string]map[string]string{
		"assets/hello.txt": {
			"body":             content,
			"Content-Type":     "text/plain; charset=utf-8",
			"Cache-Control":    "max-age=60",
			"Content-Language": "en",
			"X-Amz-Meta-Color": "blue",
			"Last-Modified":    modified,
		},
		"assets/dir/a b+c.txt": {"body": "spaced", "Content-Type": "text/plain"},
	})
	f := newFetcher(t, s3Origin(endpoint))

	tests := []struct {
		name       string
		req        *Request
		wantStatus int
		wantBody   string
		wantLength int64
		wantHeader map[string]string
		bodyHas    []string
	}{
		{
			name:       "GET object with its headers and metadata",
			req:        get("/hello.txt"),
			wantStatus: 200, wantBody: content, wantLength: int64(len(content)),
			wantHeader: map[string]string{
				"Content-Type":     "text/plain; charset=utf-8",
				"Content-Length":   "12",
				"Cache-Control":    "max-age=60",
				"Content-Language": "en",
				"ETag":             etag,
				"Last-Modified":    modified,
				"Accept-Ranges":    "bytes",
				"X-Amz-Meta-Color": "blue",
				"Server":           "AmazonS3",
			},
		},
		{
			name:       "HEAD object",
			req:        &Request{Method: "HEAD", Path: "/hello.txt", Header: http.Header{}},
			wantStatus: 200, wantBody: "", wantLength: int64(len(content)),
			wantHeader: map[string]string{"Content-Length": "12", "ETag": etag, "Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name:       "Range gives 206",
			req:        &Request{Method: "GET", Path: "/hello.txt", Header: http.Header{"Range": {"bytes=0-4"}}},
			wantStatus: 206, wantBody: "hello", wantLength: 5,
			wantHeader: map[string]string{"Content-Range": "bytes 0-4/12", "Content-Length": "5"},
		},
		{
			name:       "If-None-Match on the current ETag gives 304",
			req:        &Request{Method: "GET", Path: "/hello.txt", Header: http.Header{"If-None-Match": {etag}}},
			wantStatus: 304, wantBody: "", wantLength: 0,
			wantHeader: map[string]string{"ETag": etag, "Server": "AmazonS3"},
		},
		{
			name:       "If-None-Match on another ETag gives the object",
			req:        &Request{Method: "GET", Path: "/hello.txt", Header: http.Header{"If-None-Match": {`"other"`}}},
			wantStatus: 200, wantBody: content, wantLength: 12,
		},
		{
			name:       "escaped path is the unescaped key",
			req:        get("/dir/a%20b+c.txt"),
			wantStatus: 200, wantBody: "spaced", wantLength: 6,
		},
		{
			name:       "missing key: 404 with S3's NoSuchKey document",
			req:        get("/missing.txt"),
			wantStatus: 404, wantLength: -2,
			wantHeader: map[string]string{"Content-Type": "application/xml", "Server": "AmazonS3"},
			bodyHas: []string{
				"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>",
				"<Message>The specified key does not exist.</Message>",
				"<Key>assets/missing.txt</Key>",
				"<RequestId>", "<HostId>",
			},
		},
		{
			name:       "unsatisfiable Range: 416 InvalidRange",
			req:        &Request{Method: "GET", Path: "/hello.txt", Header: http.Header{"Range": {"bytes=100-200"}}},
			wantStatus: 416, wantLength: -2,
			wantHeader: map[string]string{"Content-Type": "application/xml"},
			bodyHas: []string{"<Code>InvalidRange</Code>",
				"<Message>The requested range is not satisfiable</Message>"},
		},
		{
			name:       "HEAD missing key: 404 without a body",
			req:        &Request{Method: "HEAD", Path: "/missing.txt", Header: http.Header{}},
			wantStatus: 404, wantBody: "", wantLength: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, err := fetchAll(context.Background(), f, tt.req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want(t, "status", resp.StatusCode, tt.wantStatus)
			if tt.wantLength != -2 {
				want(t, "body", body, tt.wantBody)
				want(t, "ContentLength", resp.ContentLength, tt.wantLength)
			} else {
				want(t, "ContentLength", resp.ContentLength, int64(len(body)))
			}
			for k, v := range tt.wantHeader {
				want(t, k, resp.Header.Get(k), v)
			}
			for _, s := range tt.bodyHas {
				if !strings.Contains(body, s) {
					t.Errorf("body %q lacks %q", body, s)
				}
			}
		})
	}
}

func TestS3Anonymous(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	endpoint := fakeS3(t, map[string]map[string]string{"assets/a.txt": {"body": "a"}})
	o := s3Origin(endpoint)
	o.Credentials = nil
	f := newFetcher(t, o)
	resp, body, err := fetchAll(context.Background(), f, get("/a.txt"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	want(t, "status", resp.StatusCode, 200)
	want(t, "body", body, "a")
}

func TestS3Failures(t *testing.T) {
	tests := []struct {
		name        string
		endpoint    func(t *testing.T) (string, func() int32)
		readTimeout time.Duration
		wantKind    Kind
		wantConns   int32
	}{
		{
			name: "refused",
			endpoint: func(t *testing.T) (string, func() int32) {
				return closedPortURL(t), nil
			},
			wantKind: Connect, wantConns: -1,
		},
		{name: "closed without answer, every attempt", endpoint: raw(acceptAndClose), wantKind: Connect, wantConns: 2},
		{name: "no answer within the read timeout", endpoint: raw(stallHeaders), readTimeout: 300 * time.Millisecond,
			wantKind: Timeout, wantConns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			endpoint, conns := tt.endpoint(t)
			f := newFetcher(t, s3Origin(endpoint))
			if tt.readTimeout > 0 {
				// config.S3Origin has no read timeout yet; CloudFront's
				// default (30 s) is too long for a test.
				f.(*s3Fetcher).transport.ResponseHeaderTimeout = tt.readTimeout
			}
			resp, err := f.Fetch(context.Background(), get("/hello.txt"))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("Fetch: status %d, want an error", resp.StatusCode)
			}
			if got := kindOf(err); got != tt.wantKind {
				t.Fatalf("Kind = %v (%v), want %v", got, err, tt.wantKind)
			}
			if tt.wantConns >= 0 {
				waitFor(t, func() bool { return conns() == tt.wantConns })
				want(t, "connections", conns(), tt.wantConns)
			}
		})
	}
}

func TestS3Key(t *testing.T) {
	tests := []struct {
		originPath, path, want string
	}{
		{"", "/a.txt", "a.txt"},
		{"/assets", "/a.txt", "assets/a.txt"},
		{"/a/b", "/c%20d/e%2Bf", "a/b/c d/e+f"},
		{"", "/", ""},
	}
	for _, tt := range tests {
		f := &s3Fetcher{prefix: strings.TrimPrefix(tt.originPath, "/")}
		got, err := f.key(tt.path)
		if err != nil || got != tt.want {
			t.Errorf("key(%q, %q) = %q, %v; want %q", tt.originPath, tt.path, got, err, tt.want)
		}
	}
}
