package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// metricName finds the metric names a PromQL expression reads: edgefront's
// own (edgefront_…) and the recording rules' (edgefront:…).
var metricName = regexp.MustCompile(`\bedgefront[_:][A-Za-z0-9_:]+`)

// TestMetricsDeploy: every metric deploy/prometheus/rules.yaml and the
// Grafana dashboard deploy/grafana/edgefront.json query exists on a running
// edge's /metrics (an edge with CloudFront Functions, Lambda@Edge and a
// balanced origin, after hits, misses, errors and a cut origin body), and
// every recording rule the dashboard reads is defined. Two scrapes in a row
// give the same CloudWatch-style rates: reading them does not reset them.
// The balanced origin lists one endpoint twice: its health is reported
// once, not as a duplicate series that would fail the whole scrape.
func TestMetricsDeploy(t *testing.T) {
	rules := readRules(t, "../../deploy/prometheus/rules.yaml")
	dashboard := readDashboard(t, "../../deploy/grafana/edgefront.json")

	var o pathOrigin
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cut" { // a body cut short after the headers
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("short"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		o.ServeHTTP(w, r)
	}))
	defer srv.Close()
	settings := strings.Replace(lambdaSettings(t, srv.URL, true), `web: "`+srv.URL+`"`, `web: ["`+srv.URL+`", "`+srv.URL+`"]`, 1)
	file := filepath.Join(t.TempDir(), "edgefront.yaml")
	if err := os.WriteFile(file, []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	e := testEdge(t, serveFlags{config: file})
	c := &http.Client{}
	base := "http://" + e.addrs["http"]
	for _, p := range []string{"/a", "/a", "/missing", "/vr/other", "/vr/throw", "/vr/status-700", "/or/x", "/cut"} {
		resp, err := c.Get(base + p)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}

	// A request is accounted just after its response: wait until every
	// one is, then scrape twice.
	requests := func(metrics string) string {
		var b strings.Builder
		for _, line := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(line, "edgefront_requests_total{") {
				b.WriteString(line + "\n")
			}
		}
		return b.String()
	}
	_, first := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		_, again := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
		if requests(again) == requests(first) {
			break
		}
		first = again
	}
	_, second := get(t, c, "http://"+e.addrs["admin"]+"/metrics")
	exposed := map[string]bool{}
	for _, line := range strings.Split(first, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		exposed[line[:strings.IndexAny(line, "{ ")]] = true
	}
	for _, q := range append(slices.Clone(rules.exprs), dashboard...) {
		for _, name := range metricName.FindAllString(q, -1) {
			switch {
			case strings.Contains(name, ":"):
				if !slices.Contains(rules.records, name) {
					t.Errorf("%s reads %s, which no rule in rules.yaml records", q, name)
				}
			case !exposed[name]:
				t.Errorf("%s reads %s, which /metrics lacks", q, name)
			}
		}
	}

	rateLines := func(metrics string) []string {
		var out []string
		for _, line := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(line, "edgefront_") && strings.Contains(line, `_rate{window=`) {
				out = append(out, line)
			}
		}
		return out
	}
	r1, r2 := rateLines(first), rateLines(second)
	if len(r1) != 8 || !slices.Equal(r1, r2) {
		t.Errorf("the rates changed between two scrapes (or are missing):\n%s\nthen\n%s", strings.Join(r1, "\n"), strings.Join(r2, "\n"))
	}
	// The gauge agrees with the counters it summarises (all the requests
	// were made in the last minute).
	var hits, total float64
	for _, line := range strings.Split(first, "\n") {
		if !strings.HasPrefix(line, "edgefront_requests_total{") {
			continue
		}
		var v float64
		fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
		total += v
		if strings.Contains(line, `result="Hit"`) || strings.Contains(line, `result="RefreshHit"`) {
			hits += v
		}
	}
	want := fmt.Sprintf(`edgefront_cache_hit_rate{window="1m"} %v`, 100*hits/total)
	if hits == 0 || !slices.Contains(r1, want) {
		t.Errorf("want %s (%v hits of %v requests):\n%s", want, hits, total, strings.Join(r1, "\n"))
	}
}

// deployRules is what TestMetricsDeploy reads of a rules file.
type deployRules struct {
	records, exprs []string
}

func readRules(t *testing.T, path string) deployRules {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct{ Record, Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out deployRules
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Expr == "" || (r.Record == "" && r.Alert == "") {
				t.Errorf("%s: group %s has a rule without record (or alert) and expr", path, g.Name)
			}
			if r.Record != "" {
				out.records = append(out.records, r.Record)
			}
			out.exprs = append(out.exprs, r.Expr)
		}
	}
	if len(out.records) == 0 {
		t.Fatalf("%s: no recording rules", path)
	}
	return out
}

// readDashboard returns the queries of a Grafana dashboard's panels (rows'
// panels included) and template variables.
func readDashboard(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Targets []struct{ Expr string }
		Panels  []json.RawMessage
	}
	var d struct {
		Panels     []json.RawMessage
		Templating struct {
			List []struct{ Type, Query string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, raw := range ps {
			var p panel
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			out = append(out, v.Query)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no queries", path)
	}
	return out
}
