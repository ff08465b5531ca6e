package origin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
)

// TestSettingsBalancingAndShield reads originBalancing and originShield from
// a settings file and checks what they compile to.
func TestSettingsBalancingAndShield(t *testing.T) {
	cfg, err := config.Load("testdata/balancing.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	d := cfg.Distributions[0]
	want(t, "Shield", d.Shield, "http://127.0.0.1:8081")
	tests := []struct {
		origin string
		want   *config.Balancing
	}{
		{"alb", &config.Balancing{Policy: config.LeastConnections, EjectAfter: 5, EjectFor: time.Minute,
			HealthCheck: &config.HealthCheck{Path: "/healthz", Interval: 5 * time.Second, Timeout: 2 * time.Second,
				UnhealthyThreshold: 3, HealthyThreshold: 2}}},
		{"api", &config.Balancing{Policy: config.RoundRobin, EjectAfter: config.DefaultEjectAfter, EjectFor: config.DefaultEjectFor,
			HealthCheck: &config.HealthCheck{Path: config.DefaultHealthCheckPath, Interval: config.DefaultHealthCheckInterval,
				Timeout: config.DefaultHealthCheckTimeout, UnhealthyThreshold: config.DefaultHealthCheckUnhealthyThreshold,
				HealthyThreshold: config.DefaultHealthCheckHealthyThreshold}}},
		{"plain", nil},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			got := d.Origins[tt.origin].Balancing
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("Balancing = %+v, want %+v", got, tt.want)
			}
			if got == nil {
				return
			}
			want(t, "Policy", got.Policy, tt.want.Policy)
			want(t, "EjectAfter", got.EjectAfter, tt.want.EjectAfter)
			want(t, "EjectFor", got.EjectFor, tt.want.EjectFor)
			want(t, "HealthCheck", *got.HealthCheck, *tt.want.HealthCheck)
		})
	}
}

func TestSettingsBalancingProblems(t *testing.T) {
	_, err := config.Load("testdata/balancing-broken.yaml")
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load: %v, want config.Errors", err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Field+": "+e.Reason)
	}
	const at = "distributions[0]."
	wantLines := []string{
		at + `originBalancing.alb.ejectFor: "soon" is not a duration like 5s or 1m30s`,
		at + `originBalancing.alb.healthCheck.path: "healthz" must start with /`,
		at + `originBalancing.alb.healthCheck.timeout: must not be longer than the interval (2s > 1s)`,
		at + `originBalancing.alb.healthCheck.unhealthyThreshold: must be at least 1`,
		at + `originBalancing.alb.healthCheck.healthyThreshold: must be at least 1`,
		at + `originBalancing.alb.policy: must be one of round-robin, least-connections (got "random")`,
		at + `originBalancing.alb.ejectAfter: must be 0 (never eject) or more`,
		at + `originBalancing.bucket: origin "bucket" is not a custom origin`,
		at + `originBalancing.nosuch: "nosuch" names no origin of this distribution (origins: alb, bucket)`,
		at + `originShield: "http://127.0.0.1:8081/shield" must be a base URL without user info, path, query or fragment`,
	}
	for _, w := range wantLines {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing problem %q\ngot:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestShieldRequest: the shield gets the viewer's path and query (no
// OriginPath), the distribution's domain name as Host unless the viewer's
// is forwarded, the forwarded headers, and no origin custom headers.
func TestShieldRequest(t *testing.T) {
	shield := newTestOrigin(t, false, named("from the shield"))
	d := &config.Distribution{
		ID: "ESHIELDED0001", DomainName: "d111111abcdef8.cloudfront.net", Shield: shield.URL,
		Origins: map[string]*config.Origin{"web": func() *config.Origin {
			o := customOrigin("http://127.0.0.1:1")
			o.OriginPath = "/prod"
			o.CustomHeaders = []config.Header{{Name: "X-Origin-Secret", Value: "s3cr3t"}}
			return o
		}()},
	}
	f, err := NewShield(d)
	if err != nil {
		t.Fatalf("NewShield: %v", err)
	}
	t.Cleanup(func() { f.(io.Closer).Close() })
	tests := []struct {
		name     string
		host     string
		wantHost string
	}{
		{"distribution domain name", "", "d111111abcdef8.cloudfront.net"},
		{"viewer Host forwarded by the policy", "www.example.com", "www.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{Method: http.MethodGet, Path: "/img/a%20b.png", RawQuery: "w=100&h=50", Host: tt.host,
				Header: http.Header{"Accept-Encoding": {"gzip"}, "Cookie": {"session=1"}, "X-Amz-Cf-Id": {"abc"}}}
			_, body, err := fetchAll(context.Background(), f, r)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want(t, "body", body, "from the shield")
			got := shield.last(t)
			want(t, "RequestURI", got.RequestURI, "/img/a%20b.png?w=100&h=50")
			want(t, "Host", got.Host, tt.wantHost)
			want(t, "Accept-Encoding", got.Header.Get("Accept-Encoding"), "gzip")
			want(t, "Cookie", got.Header.Get("Cookie"), "session=1")
			want(t, "X-Amz-Cf-Id", got.Header.Get("X-Amz-Cf-Id"), "abc")
			want(t, "X-Origin-Secret", got.Header.Get("X-Origin-Secret"), "")
		})
	}
}

func TestShieldFailures(t *testing.T) {
	t.Run("no shield", func(t *testing.T) {
		if _, err := NewShield(&config.Distribution{ID: "E1"}); err == nil {
			t.Fatal("NewShield without a shield URL: no error")
		}
	})
	t.Run("shield down", func(t *testing.T) {
		f, err := NewShield(&config.Distribution{ID: "E1", DomainName: "d.example.com", Shield: closedPortURL(t)})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = fetchAll(context.Background(), f, get("/x"))
		want(t, "kind", kindOf(err), Connect)
		var e *Error
		if errors.As(err, &e) {
			want(t, "OriginID", e.OriginID, ShieldID)
		}
	})
	t.Run("waits as long as the shield may wait for its origin", func(t *testing.T) {
		o := customOrigin("")
		o.ConnectionAttempts, o.ConnectionTimeout, o.Custom.ReadTimeout = 3, 10*time.Second, 60*time.Second
		d := &config.Distribution{Origins: map[string]*config.Origin{"web": o}}
		want(t, "wait", shieldWait(d), 95*time.Second)
		d.OriginGroups = map[string]*config.OriginGroup{"g": {ID: "g"}}
		want(t, "wait with failover", shieldWait(d), 185*time.Second)
	})
}
