package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// iacInputs are the real infrastructure-as-code inputs of config/testdata:
// the template `cdk synth` wrote for the CDK app of cdkapp/, a Terraform
// directory and a `terraform show -json` state.
var iacInputs = []struct {
	name, path string
	params     map[string]string
}{
	{"cdk synth", "../../config/testdata/cdk-synth/EdgeStack.template.json", nil},
	{"terraform directory", "../../config/testdata/terraform/site", nil},
	{"terraform show -json", "../../config/testdata/terraform/show/state.json", nil},
}

// TestValidateIaC: validate reads each input as it is and exits 0.
func TestValidateIaC(t *testing.T) {
	for _, in := range iacInputs {
		t.Run(in.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"validate", "--config", in.path}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), in.path+": ok") {
				t.Errorf("stdout:\n%s", stdout.String())
			}
		})
	}
}

// iacOrigin answers every request with its name and the path it saw.
type iacOrigin struct {
	name string
	hits int
}

func (o *iacOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.hits++ // the edge's origin requests are sequential in this test
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, o.name+" "+r.URL.Path)
}

// TestServeIaC serves each input end to end: a settings file names it, its
// originEndpoints are keyed by resource (logical ID or address) or origin
// ID, the S3 bucket is the in-process gofakes3 server and the other
// origins loopback servers; one viewer request per behaviour asserts the
// status and which origin answered ("" when the edge answered itself: the
// CloudFront Function's redirect from its key value store). The inputs with
// a CloudFront Function ask for /index.html rather than /: with any
// viewer-request function configured, proxy currently re-reads the path
// after the hook and loses the DefaultRootObject (reported, not fixed here:
// proxy is not this change's).
func TestServeIaC(t *testing.T) {
	type req struct {
		path, origin string
		status       int
		body         string // a prefix of the body
	}
	tests := []struct {
		input     int
		endpoints map[string]string
		reqs      []req
	}{
		{0, map[string]string{"SiteBucket397A1860": "s3", "EdgeStackSiteOrigin2BA678080": "legacy", "ApiF70053CD": "api"}, []req{
			{"/index.html", "s3", 200, "index page"},
			{"/legacy/page", "legacy", 200, "legacy /legacy/page"},
			{"/api/items", "api", 200, "api /api/items"},
			{"/go/docs", "", 302, ""},
		}},
		{1, map[string]string{"aws_s3_bucket.site": "s3", "aws_apigatewayv2_api.api": "api", "legacy": "legacy"}, []req{
			{"/index.html", "s3", 200, "index page"},
			{"/api/items", "api", 200, "api /api/items"},
			{"/legacy/page", "legacy", 200, "legacy /legacy/page"},
			{"/old/page", "legacy", 200, "legacy /old/page"},
			{"/go/docs", "", 302, ""},
		}},
		{2, map[string]string{"aws_s3_bucket.site": "s3", "module.api.aws_apigatewayv2_api.api": "api"}, []req{
			{"/", "s3", 200, "index page"},
			{"/api/items", "api", 200, "api /api/items"},
		}},
	}
	for _, tt := range tests {
		in := iacInputs[tt.input]
		t.Run(in.name, func(t *testing.T) {
			backend := s3mem.New()
			s3 := httptest.NewServer(gofakes3.New(backend).Server())
			defer s3.Close()
			origins := map[string]*iacOrigin{}
			urls := map[string]string{"s3": s3.URL}
			for _, name := range []string{"legacy", "api"} {
				o := &iacOrigin{name: name}
				srv := httptest.NewServer(o)
				defer srv.Close()
				origins[name], urls[name] = o, srv.URL
			}
			abs, err := filepath.Abs(in.path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			kvs := `{"data":[{"key":"docs","value":"https://docs.example.com/"}]}`
			if err := os.WriteFile(filepath.Join(dir, "redirects.json"), []byte(kvs), 0o644); err != nil {
				t.Fatal(err)
			}
			key := "terraform"
			if strings.HasSuffix(abs, ".template.json") {
				key = "template"
			}
			var eps []string
			for k, name := range tt.endpoints {
				eps = append(eps, "'"+k+"': '"+urls[name]+"'")
			}
			doc := "keyValueStores: [{name: redirects, file: redirects.json}]\ndistributions:\n  - " + key + ": " + abs +
				"\n    originEndpoints: {" + strings.Join(eps, ", ") + "}\n"
			settings := filepath.Join(dir, "edgefront.yaml")
			if err := os.WriteFile(settings, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			e := testEdge(t, serveFlags{config: settings, parameters: in.params})
			// The bucket the configuration names, with the site's objects.
			for _, o := range e.proxy.Config().Distributions[0].Origins {
				if o.S3 == nil {
					continue
				}
				if ok, _ := backend.BucketExists(o.S3.Bucket); !ok {
					if err := backend.CreateBucket(o.S3.Bucket); err != nil {
						t.Fatal(err)
					}
				}
				body := "index page"
				if _, err := backend.PutObject(o.S3.Bucket, "index.html", map[string]string{"Content-Type": "text/html"}, strings.NewReader(body), int64(len(body)), nil); err != nil {
					t.Fatal(err)
				}
			}
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for _, r := range tt.reqs {
				before := map[string]int{}
				for name, o := range origins {
					before[name] = o.hits
				}
				resp, body := get(t, c, "http://"+e.addrs["http"]+r.path)
				if resp.StatusCode != r.status || !strings.HasPrefix(body, r.body) {
					t.Errorf("%s: %d %q, want %d %q", r.path, resp.StatusCode, body, r.status, r.body)
				}
				for name, o := range origins {
					want := before[name]
					if name == r.origin {
						want++
					}
					if o.hits != want {
						t.Errorf("%s: origin %s got %d requests, want %d", r.path, name, o.hits-before[name], want-before[name])
					}
				}
				if r.status == 302 && resp.Header.Get("Location") != "https://docs.example.com/" {
					t.Errorf("%s: Location %q", r.path, resp.Header.Get("Location"))
				}
			}
		})
	}
}
