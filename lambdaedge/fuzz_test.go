package lambdaedge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/origin"
	"github.com/edgefront/edgefront/proxy"
)

// fuzzEvent is an event of kind for a request to path with header h.
func fuzzEvent(kind int, path string, h http.Header) *proxy.Event {
	o := &config.Origin{ID: "web", DomainName: "web.example.com", Custom: &config.CustomOrigin{HTTPPort: 80, HTTPSPort: 443, ProtocolPolicy: config.HTTPOnly},
		Endpoints: []string{"http://127.0.0.1:1"}}
	d := &config.Distribution{ID: "EFUZZ", DomainName: "d1.cloudfront.net", Origins: map[string]*config.Origin{"web": o}}
	ev := &proxy.Event{Point: proxy.HookPoint(kind), RequestID: "id", Distribution: d, Behavior: &config.Behavior{}}
	r := httptest.NewRequest("POST", "http://d1.cloudfront.net/", strings.NewReader("a body"))
	r.URL.Path = path
	for k, vs := range h {
		r.Header[k] = vs
	}
	switch kind {
	case viewerRequest, viewerResponse:
		ev.Request = r
	default:
		ev.OriginRequest = &origin.Request{Method: "GET", Path: path, Header: h.Clone(), Body: strings.NewReader("a body"), ContentLength: 6}
		if kind == originRequest {
			ev.Origin = o
		}
	}
	if kind >= originResponse {
		ev.Status, ev.Header = 200, http.Header{"Content-Type": {"text/plain"}, "Via": {"1.1 x"}}
	}
	return ev
}

// FuzzApply: whatever a function returns, applying it to the event of any
// type never panics, and an accepted response has a status from 200 to 599.
func FuzzApply(f *testing.F) {
	for _, s := range []string{
		`{"status":"200","headers":{"a":[{"key":"A","value":"b"}]},"body":"x"}`,
		`{"uri":"/x","querystring":"a=1","headers":{"host":[{"key":"Host","value":"d1.cloudfront.net"}]},"method":"POST"}`,
		`{"status":200,"bodyEncoding":"base64","body":"eA=="}`,
		`{"uri":"/x","origin":{"custom":{"domainName":"api.example.com","port":443,"protocol":"https","readTimeout":5,"keepaliveTimeout":5,"path":"/p","sslProtocols":["TLSv1.2"],"customHeaders":{}}}}`,
		`{"uri":"/x","origin":{"s3":{"domainName":"b.s3.amazonaws.com","region":"us-east-1","authMethod":"none","path":"","customHeaders":{"x-a":[{"value":"1"}]}}}}`,
		`{"body":{"action":"replace","encoding":"base64","data":"eHl6"}}`,
		`null`, `[]`, `"s"`, `{"status":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		for kind := viewerRequest; kind <= viewerResponse; kind++ {
			ev := fuzzEvent(kind, "/p", http.Header{"X-A": {"1"}})
			a := &config.LambdaAssociation{IncludeBody: kind <= originRequest}
			rec, err := buildEvent(ev, a, kind)
			if err != nil {
				t.Fatal(err)
			}
			if err := apply(ev, a, kind, rec, []byte(out)); err == nil && ev.Response != nil && (ev.Response.Status < 200 || ev.Response.Status > 599) {
				t.Fatalf("%s accepted status %d", config.LambdaEventTypes[kind], ev.Response.Status)
			}
		}
	})
}

// FuzzEvent: any request becomes an event document that is valid JSON and
// that, returned unchanged, changes nothing and is accepted.
func FuzzEvent(f *testing.F) {
	f.Add("/a/b", "X-Thing", "value")
	f.Add("/%41", "Host", "x")
	f.Add("/", "X-Amz-Cf-Id", "hidden")
	f.Fuzz(func(t *testing.T, path, name, value string) {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
			return
		}
		for kind := viewerRequest; kind <= originRequest; kind++ {
			ev := fuzzEvent(kind, path, http.Header{http.CanonicalHeaderKey(name): {value}})
			a := &config.LambdaAssociation{}
			rec, err := buildEvent(ev, a, kind)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := marshalEvent(rec)
			if err != nil {
				t.Fatal(err)
			}
			req, err := jsonField(doc)
			if err != nil {
				t.Fatalf("the event is not JSON: %v", err)
			}
			apply(ev, a, kind, rec, req) // returning the request unchanged: never panics
		}
	})
}

// jsonField returns Records[0].cf.request of an event document.
func jsonField(doc []byte) ([]byte, error) {
	var d struct {
		Records []struct {
			CF struct {
				Request json.RawMessage `json:"request"`
			} `json:"cf"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	return d.Records[0].CF.Request, nil
}
