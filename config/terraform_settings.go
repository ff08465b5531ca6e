package config

import "strings"

// This file reads a distribution of a settings file that names a Terraform
// configuration, as `template:` names a CloudFormation template
// (cfnsettings.go):
//
//	distributions:
//	  - terraform: infra/                        # a directory, a .tf file or show -json output
//	    resource: aws_cloudfront_distribution.site  # optional with one distribution
//	    originEndpoints: {aws_s3_bucket.site: http://127.0.0.1:9000, api: http://127.0.0.1:8081}
//
// originEndpoints and originCredentials are keyed by origin_id, or by the
// address of the resource (bucket, load balancer, API, function URL) an
// origin's domain_name comes from. The settings file's parameters (then
// --parameter) give the configuration's variables.

// terraformSettingsDistribution compiles the distribution ds names in its
// Terraform configuration.
func (l *loader) terraformSettingsDistribution(sp *problems, at string, ds *distributionSettings, quotas Quotas) *Distribution {
	rt := l.readTerraform(sp, join(at, "terraform"), resolve(l.dir, ds.Terraform), nil)
	if !rt.ok {
		return nil
	}
	var a *tfArgs
	for _, d := range rt.dist {
		if d.address == ds.Resource || ds.Resource == "" && len(rt.dist) == 1 {
			a = d
		}
	}
	if a == nil {
		if ds.Resource == "" {
			sp.add(join(at, "resource"), "is required: the configuration has %d distributions (%s)", len(rt.dist), rt.addresses())
		} else {
			sp.add(join(at, "resource"), "%q is not an %s of the configuration (%s)", ds.Resource, tfDistributionType, rt.addresses())
		}
		return nil
	}
	src := distSource{id: ds.ID, domainName: ds.DomainName, settings: sp, at: at, quotas: quotas}
	switch {
	case src.id == "":
		src.id, src.domainName = a.id, a.domain
		if ds.DomainName != "" {
			src.domainName = ds.DomainName
		}
	case !isDistributionID(src.id):
		sp.add(join(at, "id"), "%q is not a distribution ID (1 to 128 letters and digits)", src.id)
	}
	d := l.terraformDistribution(a, src, func(dc *DistributionConfig, src *distSource) {
		src.endpoints = byOrigin(dc, rt.doms, ds.OriginEndpoints)
		src.credentials = byOrigin(dc, rt.doms, ds.OriginCredentials)
	})
	if d == nil {
		return nil
	}
	compileEdgeSettings(sp, at, ds, d)
	return d
}

// isTerraformSetting reports whether a settings key names Terraform.
func isTerraformSetting(ds *distributionSettings) bool { return strings.TrimSpace(ds.Terraform) != "" }
