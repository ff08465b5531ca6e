package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"text/template"

	"github.com/edgefront/edgefront/config"
)

// configTemplate is the demo distribution in edgefront's settings format,
// with the listener addresses and origin endpoints left to fill in.
//
//go:embed demo.yaml
var configTemplate string

// configName names the embedded configuration in errors.
const configName = "demo.yaml (embedded)"

// Config returns the demo distribution's configuration with the given
// listener addresses filled in.
func (d *Demo) Config(listen config.Listen) (*config.Config, error) {
	data, err := d.configYAML(listen)
	if err != nil {
		return nil, err
	}
	c, err := config.Parse(configName, data)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return c, nil
}

// configYAML fills the embedded template.
func (d *Demo) configYAML(listen config.Listen) ([]byte, error) {
	t, err := template.New(configName).Funcs(template.FuncMap{
		// json quotes a string; a JSON string is a valid YAML scalar.
		"json": func(s string) (string, error) {
			b, err := json.Marshal(s)
			return string(b), err
		},
	}).Option("missingkey=error").Parse(configTemplate)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", configName, err)
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]any{
		"Listen":          listen,
		"S3URL":           d.s3URL,
		"APIURL":          d.apiURL,
		"DistributionID":  DistributionID,
		"DomainName":      DomainName,
		"Bucket":          Bucket,
		"BucketOriginID":  BucketOriginID,
		"AccessKeyID":     AccessKeyID,
		"SecretAccessKey": SecretAccessKey,
		"Region":          Region,
		"APIDomainName":   APIDomainName,
		"APIStage":        APIStage,
		"APIOriginID":     APIOriginID,
		"FunctionName":    FunctionName,
		"FunctionFile":    filepath.Join(d.dir, "site.js"),
		"RedirectStore":   RedirectStore,
		"RedirectFile":    filepath.Join(d.dir, "redirects.json"),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", configName, err)
	}
	return buf.Bytes(), nil
}

// URLs returns the demo URLs worth trying on the listeners of listen: the
// plain-http listener if there is one, else the https one. An unspecified
// listen address (0.0.0.0, ::, or none) is shown as localhost.
func URLs(listen config.Listen) []string {
	scheme, addr := "http", listen.HTTP
	if addr == "" {
		scheme, addr = "https", listen.HTTPS
	}
	if addr == "" {
		return nil
	}
	base := scheme + "://" + displayHost(addr)
	paths := []string{"/", "/about/index.html", "/assets/style.css", "/api/time", "/api/echo?x=1", "/api/hello?name=edgefront", "/missing"}
	urls := make([]string, len(paths))
	for i, p := range paths {
		urls[i] = base + p
	}
	return urls
}

// displayHost turns a listen address into the host[:port] a browser can use.
func displayHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
