package proxy_test

import (
	"bytes"
	"crypto/rsa"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/edgefront/edgefront/proxy"
)

// lockedBuffer is a bytes.Buffer safe for the proxy's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSignedRefusalLogged: a refused signed URL logs why at debug level,
// with the request ID the viewer got in X-Amz-Cf-Id — the viewer sees only
// CloudFront's code.
func TestSignedRefusalLogged(t *testing.T) {
	key, pub := newSigningKey(t)
	other, _ := newSigningKey(t)
	o := newOrigin(t, static("secret object", "Cache-Control", "max-age=600"))
	var logs lockedBuffer
	e := newEdgeWith(t, signedSettings(pub), map[string]string{"web": o.URL}, func(opts *proxy.Options) {
		opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	base := "http://d111111abcdef8.cloudfront.net"
	signURL := func(k *rsa.PrivateKey, path string, exp time.Time) string {
		u, err := sign.NewURLSigner("K2PUBLICKEY001", k).Sign(base+path, exp)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := url.Parse(u)
		return p.RequestURI()
	}
	withPolicy := func(resource string, cond sign.Condition) string {
		cond.DateLessThan = sign.NewAWSEpochTime(e.clock.Now().Add(time.Hour))
		p := &sign.Policy{Statements: []sign.Statement{{Resource: base + resource, Condition: cond}}}
		u, err := sign.NewURLSigner("K2PUBLICKEY001", key).SignWithPolicy(base+"/private/a.txt", p)
		if err != nil {
			t.Fatal(err)
		}
		pu, _ := url.Parse(u)
		return pu.RequestURI()
	}
	later := e.clock.Now().Add(time.Hour)
	cases := []struct {
		name, uri, reason string
	}{
		{"missing part", "/private/a.txt", "no Key-Pair-Id"},
		{"expired", signURL(key, "/private/a.txt", e.clock.Now().Add(-time.Minute)), "expired at"},
		{"bad signature", signURL(other, "/private/a.txt", later), "signature does not match"},
		{"untrusted key", strings.Replace(signURL(key, "/private/a.txt", later), "K2PUBLICKEY001", "K2UNTRUSTED", 1), "is not trusted"},
		{"resource", withPolicy("/private/b.txt", sign.Condition{}), "does not match the policy's resource"},
		{"IP", withPolicy("/private/*", sign.Condition{IPAddress: &sign.IPAddress{SourceIP: "192.0.2.0/24"}}), "viewer address 127.0.0.1 is not in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("GET", c.uri, "Host", "d111111abcdef8.cloudfront.net")
			id := r.header.Get("X-Amz-Cf-Id")
			if r.status != 403 || id == "" {
				t.Fatalf("%d, X-Amz-Cf-Id %q", r.status, id)
			}
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "requestId=") && strings.Contains(l, id) {
					line = l
				}
			}
			if !strings.Contains(line, "level=DEBUG") || !strings.Contains(line, "signed URL or cookies refused") || !strings.Contains(line, c.reason) {
				t.Errorf("log line for request %s: %q, want the reason %q at debug", id, line, c.reason)
			}
		})
	}
}
