package config

// This file holds the CloudFront quotas edgefront enforces on every
// distribution, as CloudFront does: a configuration beyond them is refused
// (by Load with the file, field and reason; by the control API with
// CloudFront's error code). They also bound the work of serving one
// request: every cache behaviour's path pattern may be tried against its
// path.

// CloudFront's default quotas ("Quotas", General quotas on distributions,
// in the CloudFront Developer Guide). They are adjustable on request, so
// the settings file may raise them (quotas.*).
const (
	DefaultCacheBehaviorsPerDistribution = 75
	DefaultOriginsPerDistribution        = 100
	DefaultOriginGroupsPerDistribution   = 10
)

// CloudFront's error codes for a distribution beyond its quotas.
const (
	CodeTooManyCacheBehaviors              = "TooManyCacheBehaviors"
	CodeTooManyOrigins                     = "TooManyOrigins"
	CodeTooManyOriginGroupsPerDistribution = "TooManyOriginGroupsPerDistribution"
)

// Quotas are the per-distribution quotas in force. A zero field means
// CloudFront's default.
type Quotas struct {
	CacheBehaviorsPerDistribution int
	OriginsPerDistribution        int
	OriginGroupsPerDistribution   int
}

// withDefaults returns q with its zero fields set to CloudFront's defaults.
func (q Quotas) withDefaults() Quotas {
	if q.CacheBehaviorsPerDistribution == 0 {
		q.CacheBehaviorsPerDistribution = DefaultCacheBehaviorsPerDistribution
	}
	if q.OriginsPerDistribution == 0 {
		q.OriginsPerDistribution = DefaultOriginsPerDistribution
	}
	if q.OriginGroupsPerDistribution == 0 {
		q.OriginGroupsPerDistribution = DefaultOriginGroupsPerDistribution
	}
	return q
}

// quotaSettings is the settings file's quotas.
type quotaSettings struct {
	CacheBehaviorsPerDistribution *int `json:"cacheBehaviorsPerDistribution"`
	OriginsPerDistribution        *int `json:"originsPerDistribution"`
	OriginGroupsPerDistribution   *int `json:"originGroupsPerDistribution"`
}

// compileQuotas reads the settings file's quotas (nil: all defaults).
func compileQuotas(p *problems, s *quotaSettings) Quotas {
	var q Quotas
	if s != nil {
		set := func(field string, v *int, dst *int) {
			if v == nil {
				return
			}
			if *v < 1 {
				p.add(join("quotas", field), "must be at least 1 (got %d)", *v)
				return
			}
			*dst = *v
		}
		set("cacheBehaviorsPerDistribution", s.CacheBehaviorsPerDistribution, &q.CacheBehaviorsPerDistribution)
		set("originsPerDistribution", s.OriginsPerDistribution, &q.OriginsPerDistribution)
		set("originGroupsPerDistribution", s.OriginGroupsPerDistribution, &q.OriginGroupsPerDistribution)
	}
	return q.withDefaults()
}

// checkQuotas reports the lists of dc (at root) longer than q allows.
func checkQuotas(p *problems, root string, dc *DistributionConfig, q Quotas) {
	q = q.withDefaults()
	check := func(field, code, what, setting string, n, limit int) {
		if n > limit {
			p.addCode(code, join(root, field), "has %d %s, more than the quota of %d per distribution (settings: quotas.%s)", n, what, limit, setting)
		}
	}
	check("Origins", CodeTooManyOrigins, "origins", "originsPerDistribution", dc.Origins.Len(), q.OriginsPerDistribution)
	check("OriginGroups", CodeTooManyOriginGroupsPerDistribution, "origin groups", "originGroupsPerDistribution", dc.OriginGroups.Len(), q.OriginGroupsPerDistribution)
	check("CacheBehaviors", CodeTooManyCacheBehaviors, "cache behaviors", "cacheBehaviorsPerDistribution", dc.CacheBehaviors.Len(), q.CacheBehaviorsPerDistribution)
}
