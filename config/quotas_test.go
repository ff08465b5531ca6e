package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// quotaDoc is a settings file (JSON) with one distribution of the given
// numbers of cache behaviours, origins and origin groups, and settings
// added at the top level.
func quotaDoc(t *testing.T, behaviors, origins, groups int, settings map[string]any) []byte {
	t.Helper()
	var os, gs, bs []any
	for i := range max(origins, 2*groups, 1) {
		os = append(os, map[string]any{"Id": fmt.Sprintf("o%d", i), "DomainName": fmt.Sprintf("o%d.example.com", i)})
	}
	for i := range groups {
		gs = append(gs, map[string]any{
			"Id":               fmt.Sprintf("g%d", i),
			"FailoverCriteria": map[string]any{"StatusCodes": map[string]any{"Items": []int{500}}},
			"Members": map[string]any{"Items": []any{
				map[string]any{"OriginId": fmt.Sprintf("o%d", 2*i)}, map[string]any{"OriginId": fmt.Sprintf("o%d", 2*i+1)},
			}},
		})
	}
	for i := range behaviors {
		bs = append(bs, map[string]any{"PathPattern": fmt.Sprintf("/b%d/*", i), "TargetOriginId": "o0",
			"ViewerProtocolPolicy": "allow-all", "CachePolicyId": "Managed-CachingOptimized"})
	}
	dc := map[string]any{
		"CallerReference":      "quotas",
		"Origins":              map[string]any{"Items": os},
		"DefaultCacheBehavior": map[string]any{"TargetOriginId": "o0", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": "Managed-CachingOptimized"},
		"CacheBehaviors":       map[string]any{"Items": bs},
	}
	if groups > 0 {
		dc["OriginGroups"] = map[string]any{"Items": gs}
	}
	doc := map[string]any{"distributions": []any{map[string]any{"id": "EQUOTA", "config": dc}}}
	for k, v := range settings {
		doc[k] = v
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestQuotas checks CloudFront's per-distribution quotas ("Quotas",
// general quotas on distributions: 75 cache behaviours, 100 origins, 10
// origin groups): a configuration file beyond one is refused with the
// file, the field, the reason and CloudFront's error code; the settings
// file may raise them, as AWS does on request.
func TestQuotas(t *testing.T) {
	const (
		nb = DefaultCacheBehaviorsPerDistribution
		no = DefaultOriginsPerDistribution
		ng = DefaultOriginGroupsPerDistribution
	)
	tests := []struct {
		name                       string
		behaviors, origins, groups int
		settings                   map[string]any
		want                       string // the error line, "" for none
		code                       string
	}{
		{name: "at every quota", behaviors: nb, origins: no, groups: ng},
		{name: "one behaviour too many", behaviors: nb + 1, origins: 1,
			want: fmt.Sprintf("s.json: distributions[0].config.CacheBehaviors: has %d cache behaviors, more than the quota of %d per distribution (settings: quotas.cacheBehaviorsPerDistribution)", nb+1, nb),
			code: CodeTooManyCacheBehaviors},
		{name: "2,000 behaviours", behaviors: 2000, origins: 1,
			want: fmt.Sprintf("s.json: distributions[0].config.CacheBehaviors: has 2000 cache behaviors, more than the quota of %d per distribution (settings: quotas.cacheBehaviorsPerDistribution)", nb),
			code: CodeTooManyCacheBehaviors},
		{name: "one origin too many", origins: no + 1,
			want: fmt.Sprintf("s.json: distributions[0].config.Origins: has %d origins, more than the quota of %d per distribution (settings: quotas.originsPerDistribution)", no+1, no),
			code: CodeTooManyOrigins},
		{name: "one origin group too many", groups: ng + 1,
			want: fmt.Sprintf("s.json: distributions[0].config.OriginGroups: has %d origin groups, more than the quota of %d per distribution (settings: quotas.originGroupsPerDistribution)", ng+1, ng),
			code: CodeTooManyOriginGroupsPerDistribution},
		{name: "raised quota", behaviors: nb + 5, origins: 1,
			settings: map[string]any{"quotas": map[string]any{"cacheBehaviorsPerDistribution": nb + 5}}},
		{name: "lowered quota", behaviors: 3, origins: 1,
			settings: map[string]any{"quotas": map[string]any{"cacheBehaviorsPerDistribution": 2}},
			want:     "s.json: distributions[0].config.CacheBehaviors: has 3 cache behaviors, more than the quota of 2 per distribution (settings: quotas.cacheBehaviorsPerDistribution)",
			code:     CodeTooManyCacheBehaviors},
		{name: "quota of zero", origins: 1,
			settings: map[string]any{"quotas": map[string]any{"originsPerDistribution": 0}},
			want:     "s.json: quotas.originsPerDistribution: must be at least 1 (got 0)"},
		{name: "unknown quota", origins: 1,
			settings: map[string]any{"quotas": map[string]any{"behaviors": 10}},
			want:     "s.json: quotas.behaviors: unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("s.json", quotaDoc(t, tc.behaviors, tc.origins, tc.groups, tc.settings))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if n := len(cfg.Distributions[0].Behaviors); n != tc.behaviors {
					t.Errorf("%d behaviours compiled, want %d", n, tc.behaviors)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("error %v, want one config.Error", err)
			}
			if got := es[0].Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("error %q, want %q", got, tc.want)
			}
			if es[0].Code != tc.code {
				t.Errorf("code %q, want %q", es[0].Code, tc.code)
			}
		})
	}
}

// TestWithDistributionQuotas checks that an update (the control API's
// UpdateDistribution) is held to the configuration's quotas.
func TestWithDistributionQuotas(t *testing.T) {
	cfg, err := Parse("s.json", quotaDoc(t, 1, 1, 0, map[string]any{"quotas": map[string]any{"cacheBehaviorsPerDistribution": 4}}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Quotas.CacheBehaviorsPerDistribution != 4 || cfg.Quotas.OriginsPerDistribution != DefaultOriginsPerDistribution {
		t.Fatalf("quotas %+v", cfg.Quotas)
	}
	dc := cfg.Distributions[0].Raw
	for n, ok := range map[int]bool{4: true, 5: false} {
		next := *dc
		next.CacheBehaviors = &List[CacheBehaviorConfig]{}
		for i := range n {
			b := dc.CacheBehaviors.Items[0]
			b.PathPattern = fmt.Sprintf("/u%d/*", i)
			next.CacheBehaviors.Items = append(next.CacheBehaviors.Items, b)
		}
		_, err := cfg.WithDistribution("EQUOTA", &next)
		var es Errors
		switch {
		case ok && err != nil:
			t.Errorf("%d behaviours: %v", n, err)
		case !ok && (!errors.As(err, &es) || es[0].Code != CodeTooManyCacheBehaviors || es[0].Field != "DistributionConfig.CacheBehaviors"):
			t.Errorf("%d behaviours: %v, want DistributionConfig.CacheBehaviors %s", n, err, CodeTooManyCacheBehaviors)
		}
	}
}
