package proxy_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestOriginGroupFailover: an origin group fails over from the primary to
// the secondary on its configured status codes and when the primary cannot
// be reached, for GET, HEAD and OPTIONS only ("Optimize high availability
// with CloudFront origin failover").
func TestOriginGroupFailover(t *testing.T) {
	primary := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/broken"):
			http.Error(w, "primary is broken", http.StatusServiceUnavailable)
		case strings.HasPrefix(r.URL.Path, "/gone"):
			http.Error(w, "primary says gone", http.StatusGone)
		default:
			fmt.Fprintf(w, "primary %s %s", r.Method, r.URL.Path)
		}
	})
	secondary := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "secondary %s %s", r.Method, r.URL.Path)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	settings := `
distributions:
  - id: EGROUP0000001
    originEndpoints: {primary: "{{primary}}", secondary: "{{secondary}}", dead: "{{dead}}"}
    config:
      CallerReference: group
      Enabled: true
      Origins:
        Items:
          - {Id: primary, DomainName: primary.example.com, ConnectionAttempts: 1, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: secondary, DomainName: secondary.example.com, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
          - {Id: dead, DomainName: dead.example.com, ConnectionAttempts: 1, ConnectionTimeout: 1, CustomOriginConfig: {OriginProtocolPolicy: http-only}}
      OriginGroups:
        Items:
          - Id: group
            FailoverCriteria: {StatusCodes: {Items: [500, 502, 503, 504]}}
            Members: {Items: [{OriginId: primary}, {OriginId: secondary}]}
          - Id: deadgroup
            FailoverCriteria: {StatusCodes: {Items: [503]}}
            Members: {Items: [{OriginId: dead}, {OriginId: secondary}]}
      CacheBehaviors:
        Items:
          - {PathPattern: "/down/*", TargetOriginId: deadgroup, ViewerProtocolPolicy: allow-all, CachePolicyId: CachingDisabled}
      DefaultCacheBehavior:
        TargetOriginId: group
        ViewerProtocolPolicy: allow-all
        CachePolicyId: CachingDisabled
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}
`
	e := newEdge(t, settings, map[string]string{"primary": primary.URL, "secondary": secondary.URL, "dead": dead})
	cases := []struct {
		rule, method, path string
		wantStatus         int
		wantBody           string
	}{
		{"primary answers: no failover", "GET", "/ok", 200, "primary GET /ok"},
		{"a configured code (503) fails over", "GET", "/broken", 200, "secondary GET /broken"},
		{"a code not configured (410) does not", "GET", "/gone", 410, "primary says gone\n"},
		{"OPTIONS fails over too", "OPTIONS", "/broken", 200, "secondary OPTIONS /broken"},
		{"POST never fails over", "POST", "/broken", 503, "primary is broken\n"},
		{"an unreachable primary fails over", "GET", "/down/x", 200, "secondary GET /down/x"},
	}
	for _, c := range cases {
		var body io.Reader
		if c.method == "POST" {
			body = strings.NewReader("x=1")
		}
		r := e.send(e.client, e.http.URL, c.method, c.path, body)
		if r.status != c.wantStatus || r.body != c.wantBody {
			t.Errorf("%s: %d %q, want %d %q", c.rule, r.status, r.body, c.wantStatus, c.wantBody)
		}
	}
}

// TestAPIGatewayOrigin: an API Gateway stage as a custom origin — the stage
// in OriginPath, https-only toward the origin (here its endpoint), the
// managed AllViewerExceptHostHeader policy so API Gateway gets its own
// domain as Host, query strings and bodies of every method forwarded, and
// nothing cached under CachingDisabled.
func TestAPIGatewayOrigin(t *testing.T) {
	var api *origin
	api = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "abc123.execute-api.us-east-1.amazonaws.com" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"Forbidden"}`)
			return
		}
		_, b := api.lastRequest() // the harness has read the body
		fmt.Fprintf(w, "%s %s?%s body=%s auth=%s", r.Method, r.URL.Path, r.URL.RawQuery, b, r.Header.Get("Authorization"))
	})
	e := newEdge(t, `
distributions:
  - id: EAPIGW0000001
    originEndpoints: {api: "{{api}}"}
    config:
      CallerReference: apigw
      Enabled: true
      Aliases: {Items: [api.example.com]}
      Origins:
        Items:
          - Id: api
            DomainName: abc123.execute-api.us-east-1.amazonaws.com
            OriginPath: /prod
            CustomOriginConfig: {HTTPSPort: 443, OriginProtocolPolicy: https-only, OriginSslProtocols: {Items: [TLSv1.2]}}
      DefaultCacheBehavior:
        TargetOriginId: api
        ViewerProtocolPolicy: redirect-to-https
        CachePolicyId: CachingDisabled
        OriginRequestPolicyId: AllViewerExceptHostHeader
        AllowedMethods: {Items: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]}
`, map[string]string{"api": api.URL})
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		for i := 0; i < 2; i++ {
			var body io.Reader
			if m != "GET" {
				body = strings.NewReader(`{"n":1}`)
			}
			r := e.send(e.tclient, e.https.URL, m, "/items/7?expand=1", body, "Host", "api.example.com", "Authorization", "Bearer t")
			want := m + " /prod/items/7?expand=1 body= auth=Bearer t"
			if m != "GET" {
				want = m + ` /prod/items/7?expand=1 body={"n":1} auth=Bearer t`
			}
			if r.status != 200 || r.body != want || r.xcache() != "Miss from cloudfront" {
				t.Errorf("%s #%d: %d %q %q, want %q", m, i, r.status, r.body, r.xcache(), want)
			}
		}
	}
	if n := api.hits.Load(); n != 10 {
		t.Errorf("API hits %d, want 10 (nothing cached)", n)
	}
}
