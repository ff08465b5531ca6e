package config

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// This file is the entry point of the control API's UpdateDistribution: a
// new DistributionConfig for one distribution of a running configuration.

// WithDistribution returns a copy of c in which the distribution id is
// compiled from dc, as UpdateDistribution does; c itself is not modified
// and the other distributions are shared.
//
// dc is validated as strictly as a DistributionConfig read from a file (it
// goes through the same decoder, so Quantity mismatches are reported too);
// problems are returned as Errors whose Field starts with
// "DistributionConfig" (with CloudFront's error Code where it has one, as
// for a distribution beyond c.Quotas). The distribution keeps its edgefront settings: its
// ID and domain name, its originShield, and the originEndpoints,
// originBalancing and originCredentials of the origins that are still there
// (credentials only while the origin is an S3 origin, balancing while it is
// a custom one). Custom policies are those the behaviours of c use.
func (c *Config) WithDistribution(id string, dc *DistributionConfig) (*Config, error) {
	at := -1
	for i, d := range c.Distributions {
		if d.ID == id {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("no distribution %q", id)
	}
	old := c.Distributions[at]

	data, err := json.Marshal(dc)
	if err != nil {
		return nil, fmt.Errorf("marshal DistributionConfig: %w", err)
	}
	doc, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("reparse DistributionConfig: %w", err)
	}
	const root = "DistributionConfig"
	p := newProblems("")
	fresh := &DistributionConfig{}
	decodeInto(p, root, doc, fresh)

	src := distSource{id: old.ID, domainName: old.DomainName, settings: p, at: "edgefront", quotas: c.Quotas}
	for _, oc := range fresh.Origins.All() {
		o, ok := old.Origins[oc.Id]
		if !ok {
			continue
		}
		if len(o.Endpoints) > 0 {
			if src.endpoints == nil {
				src.endpoints = map[string]stringList{}
			}
			src.endpoints[oc.Id] = stringList(o.Endpoints)
		}
		_, _, isS3 := s3RESTEndpoint(oc.DomainName)
		if cr := o.Credentials; cr != nil && !cr.FromEnvironment && (isS3 || oc.S3OriginConfig != nil) && oc.CustomOriginConfig == nil && oc.VpcOriginConfig == nil {
			if src.credentials == nil {
				src.credentials = map[string]*credentialSettings{}
			}
			cs := &credentialSettings{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken, Region: cr.Region}
			if cr.DefaultChain {
				cs = &credentialSettings{Source: "default-chain", Region: cr.Region}
			}
			src.credentials[oc.Id] = cs
		}
	}

	d := compileDistribution(p, root, fresh, src, c.policies())
	// edgefront's own settings for what is still there carry over too.
	d.Shield = old.Shield
	for id, o := range d.Origins {
		if prev, ok := old.Origins[id]; ok && o.Custom != nil && prev.Balancing != nil {
			o.Balancing = prev.Balancing
		}
	}
	next := make([]*Distribution, len(c.Distributions))
	copy(next, c.Distributions)
	next[at] = d
	checkHosts(p, root, next, at)
	useEnvironmentCredentials(p, next[at:at+1], os.Getenv)
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	cfg := *c
	cfg.Distributions = next
	return &cfg, nil
}

// policies rebuilds the custom policies c's behaviours use, by ID and name.
func (c *Config) policies() *policySet {
	pol := newPolicySet()
	pol.functions = c.Functions
	pol.lambda = c.lambdaSet()
	for _, d := range c.Distributions {
		bs := d.Behaviors
		if d.Default != nil {
			bs = append([]*Behavior{d.Default}, bs...)
		}
		for _, b := range bs {
			if cp := b.CachePolicy; cp != nil && !cp.Legacy {
				addPolicy(pol.cache, cp.ID, cp.Name, cp)
			}
			if op := b.OriginRequestPolicy; op != nil {
				addPolicy(pol.origin, op.ID, op.Name, op)
			}
			if rp := b.ResponseHeadersPolicy; rp != nil {
				addPolicy(pol.response, rp.ID, rp.Name, rp)
			}
		}
	}
	return pol
}

func addPolicy[P any](m map[string]P, id, name string, v P) {
	for _, k := range []string{id, name} {
		if k != "" && !isManagedName(k) {
			m[k] = v
		}
	}
}

// checkHosts reports aliases of the distribution at index at that another
// distribution already serves.
func checkHosts(p *problems, root string, ds []*Distribution, at int) {
	taken := map[string]string{}
	for i, d := range ds {
		if i == at {
			continue
		}
		taken[d.DomainName] = d.ID
		for _, a := range d.Aliases {
			taken[a] = d.ID
		}
	}
	for i, a := range ds[at].Aliases {
		if other, dup := taken[a]; dup {
			p.add(index(join(root, "Aliases.Items"), i), "%q is already served by distribution %s", a, other)
		}
	}
}

// WithFunctions returns a copy of c whose CloudFront Functions are fns (by
// ARN) and key value stores stores (by name), every behaviour's
// FunctionAssociations resolved again against fns, as the control API's
// function and key value store changes need; c itself is not modified.
//
// The distributions were accepted before, so an association that now
// names no function is a warning (Distribution.Ignored), never an error:
// the control API refuses to delete a function in use, and a
// configuration copied from AWS may name functions edgefront lacks.
// Distribution IDs and ETags are unchanged.
func (c *Config) WithFunctions(fns map[string]*Function, stores map[string]*KeyValueStore) *Config {
	pol := newPolicySet()
	pol.functions = fns
	pol.unresolvedWarns = true
	next := make([]*Distribution, len(c.Distributions))
	for i, d := range c.Distributions {
		next[i] = rebindFunctions(d, pol)
	}
	cfg := *c
	cfg.Functions, cfg.KeyValueStores, cfg.Distributions = fns, stores, next
	return &cfg
}

// rebindFunctions returns a copy of d whose behaviours (copied too) have
// their FunctionAssociations resolved against pol.functions.
func rebindFunctions(d *Distribution, pol *policySet) *Distribution {
	const root = "DistributionConfig"
	nd := *d
	nd.Ignored = nil
	for _, w := range d.Ignored {
		if !strings.Contains(w.Field, "FunctionAssociations.Items[") {
			nd.Ignored = append(nd.Ignored, w)
		}
	}
	p := newProblems("")
	rebind := func(path string, bc *CacheBehaviorConfig, b *Behavior) *Behavior {
		if b == nil {
			return nil
		}
		nb := *b
		nb.ViewerRequestFunction, nb.ViewerResponseFunction = nil, nil
		if bc != nil {
			compileFunctionAssociations(p, path, bc, &nb, &nd, pol)
		}
		return &nb
	}
	var raw *DistributionConfig
	if d.Raw != nil {
		raw = d.Raw
	} else {
		raw = &DistributionConfig{}
	}
	nd.Default = rebind(join(root, "DefaultCacheBehavior"), raw.DefaultCacheBehavior, d.Default)
	nd.Behaviors = make([]*Behavior, len(d.Behaviors))
	items := raw.CacheBehaviors.All()
	for i, b := range d.Behaviors {
		var bc *CacheBehaviorConfig
		if i < len(items) {
			bc = &items[i]
		}
		nd.Behaviors[i] = rebind(index(join(root, "CacheBehaviors.Items"), i), bc, b)
	}
	return &nd
}
