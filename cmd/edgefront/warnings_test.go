package main

import (
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// TestListenerWarnings: a behaviour that needs https (redirect-to-https,
// https-only) while the https listener is disabled is warned about at
// start-up; with the listener, or with allow-all, nothing is said.
func TestListenerWarnings(t *testing.T) {
	dist := func(defaultPolicy string, others ...string) *config.Distribution {
		d := &config.Distribution{ID: "EWARN", Default: &config.Behavior{PathPattern: "*", ViewerProtocolPolicy: defaultPolicy}}
		for i, p := range others {
			d.Behaviors = append(d.Behaviors, &config.Behavior{PathPattern: "/p" + string(rune('0'+i)) + "/*", ViewerProtocolPolicy: p})
		}
		return d
	}
	cases := []struct {
		name  string
		https string
		d     *config.Distribution
		want  []string // substrings, one warning each
	}{
		{"allow-all without https", "", dist(config.AllowAll), nil},
		{"redirect-to-https with https", ":8443", dist(config.RedirectToHTTPS), nil},
		{"redirect-to-https without https", "", dist(config.RedirectToHTTPS), []string{`distribution EWARN: the behavior for "*" is redirect-to-https and redirects http viewers to https, but the https listener is disabled`}},
		{"https-only on a path without https", "", dist(config.AllowAll, config.AllowAll, config.HTTPSOnly), []string{`the behavior for "/p1/*" is https-only and refuses http viewers (403)`}},
		{"both", "", dist(config.HTTPSOnly, config.RedirectToHTTPS), []string{`"/p0/*" is redirect-to-https`, `"*" is https-only`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &config.Config{Listen: config.Listen{HTTPS: c.https}, Distributions: []*config.Distribution{c.d}}
			got := listenerWarnings(cfg)
			if len(got) != len(c.want) {
				t.Fatalf("warnings %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q lacks %q", got[i], w)
				}
			}
		})
	}
}
