package config

// This file is the one list of what edgefront accepts in a DistributionConfig
// but does not emulate. `edgefront validate` prints each such setting a
// configuration uses as a warning, and serve logs it once at load; neither
// refuses the configuration.

// notEmulated is one setting edgefront accepts without emulating it. Exactly
// one of dist, origin and behavior says whether a configuration uses it.
type notEmulated struct {
	field    string // the path below the DistributionConfig, an origin or a behaviour
	reason   string
	dist     func(*DistributionConfig) bool
	origin   func(*OriginConfig) bool
	behavior func(*CacheBehaviorConfig) bool
}

// notEmulatedSettings returns every setting edgefront accepts without
// emulating it.
func notEmulatedSettings() []notEmulated {
	return []notEmulated{
		{field: "Logging", reason: "standard logging to an S3 bucket is not emulated; use --access-log",
			dist: func(dc *DistributionConfig) bool { return dc.Logging != nil && boolOf(dc.Logging.Enabled) }},
		{field: "WebACLId", reason: "AWS WAF is not emulated: requests are not filtered",
			dist: func(dc *DistributionConfig) bool { return dc.WebACLId != "" }},
		{field: "ViewerCertificate.ACMCertificateArn", reason: "the certificate comes from edgefront's tls settings",
			dist: func(dc *DistributionConfig) bool {
				return dc.ViewerCertificate != nil && dc.ViewerCertificate.ACMCertificateArn != ""
			}},
		{field: "ViewerCertificate.IAMCertificateId", reason: "the certificate comes from edgefront's tls settings",
			dist: func(dc *DistributionConfig) bool {
				return dc.ViewerCertificate != nil && dc.ViewerCertificate.IAMCertificateId != ""
			}},
		{field: "ContinuousDeploymentPolicyId", reason: "continuous deployment (staging traffic) is not emulated",
			dist: func(dc *DistributionConfig) bool { return dc.ContinuousDeploymentPolicyId != "" }},
		{field: "Staging", reason: "continuous deployment is not emulated: a staging distribution serves as a primary one",
			dist: func(dc *DistributionConfig) bool { return boolOf(dc.Staging) }},
		{field: "AnycastIpListId", reason: "Anycast static IP lists are not emulated; edgefront serves on its own listeners",
			dist: func(dc *DistributionConfig) bool { return dc.AnycastIpListId != "" }},
		{field: "TenantConfig", reason: "multi-tenant distributions (tenants, tenant parameters) are not emulated",
			dist: func(dc *DistributionConfig) bool { return dc.TenantConfig != nil }},
		{field: "ConnectionMode", reason: "tenant-only is not emulated: the distribution serves its own domain name and aliases",
			dist: func(dc *DistributionConfig) bool { return dc.ConnectionMode == "tenant-only" }},
		{field: "ConnectionFunctionAssociation", reason: "connection functions are not emulated",
			dist: func(dc *DistributionConfig) bool { return dc.ConnectionFunctionAssociation != nil }},
		{field: "ViewerMtlsConfig", reason: "viewer mutual TLS is not emulated: no client certificate is asked for",
			dist: func(dc *DistributionConfig) bool { return dc.ViewerMtlsConfig != nil }},
		{field: "CacheTagConfig", reason: "cache tags are not emulated; invalidate by path",
			dist: func(dc *DistributionConfig) bool { return dc.CacheTagConfig != nil }},
		{field: "CustomOriginConfig.OriginMtlsConfig", reason: "mutual TLS toward the origin is not emulated: no client certificate is sent",
			origin: func(o *OriginConfig) bool {
				return o.CustomOriginConfig != nil && o.CustomOriginConfig.OriginMtlsConfig != nil
			}},
		{field: "FieldLevelEncryptionId", reason: "field-level encryption is not emulated: POST bodies reach the origin unencrypted",
			behavior: func(b *CacheBehaviorConfig) bool { return b.FieldLevelEncryptionId != "" }},
		{field: "RealtimeLogConfigArn", reason: "real-time logs to Kinesis are not emulated; use --access-log-format json",
			behavior: func(b *CacheBehaviorConfig) bool { return b.RealtimeLogConfigArn != "" }},
		{field: "GrpcConfig", reason: "gRPC is not emulated: requests are proxied as plain HTTP",
			behavior: func(b *CacheBehaviorConfig) bool { return b.GrpcConfig != nil && boolOf(b.GrpcConfig.Enabled) }},
		{field: "SmoothStreaming", reason: "Microsoft Smooth Streaming is not emulated",
			behavior: func(b *CacheBehaviorConfig) bool { return boolOf(b.SmoothStreaming) }},
	}
}

// ignoredSettings returns a warning for each setting of dc (at root, in the
// file of p) that is accepted but not emulated, in document order.
func ignoredSettings(p *problems, root string, dc *DistributionConfig) Errors {
	var out Errors
	table := notEmulatedSettings()
	warn := func(field, reason string) {
		out = append(out, &Error{File: p.file, Field: field, Reason: "accepted but not emulated: " + reason})
	}
	for _, s := range table {
		if s.dist != nil && s.dist(dc) {
			warn(join(root, s.field), s.reason)
		}
	}
	for i := range dc.Origins.All() {
		for _, s := range table {
			if s.origin != nil && s.origin(&dc.Origins.Items[i]) {
				warn(join(index(join(root, "Origins.Items"), i), s.field), s.reason)
			}
		}
	}
	behaviors := func(path string, b *CacheBehaviorConfig) {
		for _, s := range table {
			if s.behavior != nil && s.behavior(b) {
				warn(join(path, s.field), s.reason)
			}
		}
	}
	if dc.DefaultCacheBehavior != nil {
		behaviors(join(root, "DefaultCacheBehavior"), dc.DefaultCacheBehavior)
	}
	for i := range dc.CacheBehaviors.All() {
		behaviors(index(join(root, "CacheBehaviors.Items"), i), &dc.CacheBehaviors.Items[i])
	}
	return out
}

// Warnings returns every setting of the configuration's distributions that
// is accepted but not emulated, each as "file: field: reason".
func (c *Config) Warnings() Errors {
	var out Errors
	for _, d := range c.Distributions {
		out = append(out, d.Ignored...)
	}
	return out
}
