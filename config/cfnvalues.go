package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// This file gives a template's references the values CloudFormation would
// produce, deterministically, so a template works as it is:
//
//   - pseudo parameters ("Get AWS values using pseudo parameters",
//     CloudFormation User Guide): AWS::Region us-east-1, AWS::AccountId
//     123456789012, AWS::Partition aws, AWS::URLSuffix amazonaws.com,
//     AWS::StackName the template file's name without .template.json /
//     .json / .yaml, AWS::StackId an ARN built from them; each can be set
//     like a parameter (--parameter AWS::Region=eu-west-1).
//   - Ref and Fn::GetAtt of the resources of the same template, as the
//     "Return values" section of each resource's page in the CloudFormation
//     Template Reference describes them (resourceValue); generated names and
//     IDs are hashes of the stack name and logical ID.
//   - parameters without a Default and Fn::ImportValue from the values given
//     (TemplateInputs).
//   - Conditions, Fn::If, Fn::Equals, Fn::And, Fn::Or, Fn::Not, Fn::Select,
//     Fn::Split, Fn::FindInMap, Fn::Base64, Fn::Sub, Fn::Join.

// TemplateInputs are the values of a CloudFormation template that only a
// stack knows: parameter values (also pseudo parameters such as AWS::Region)
// and the exports Fn::ImportValue reads.
type TemplateInputs struct {
	Parameters map[string]string
	Imports    map[string]string
}

// Pseudo parameter values when none is given.
const (
	DefaultTemplateRegion  = "us-east-1"
	DefaultTemplateAccount = "123456789012"
)

// stackName is the stack name of a template file: its base name without
// .template.json (what `cdk synth` writes), .json, .yaml or .yml.
func stackName(file string) string {
	base := filepath.Base(file)
	for _, ext := range []string{".template.json", ".template.yaml", ".json", ".yaml", ".yml"} {
		if s, ok := strings.CutSuffix(base, ext); ok && s != "" {
			return s
		}
	}
	return base
}

// pseudo returns the value of a pseudo parameter.
func (c *converter) pseudo(name string) (any, bool) {
	if v, ok := c.inputs.Parameters[name]; ok {
		return v, true
	}
	switch name {
	case "AWS::Region":
		return c.region(), true
	case "AWS::AccountId":
		return c.account(), true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::StackName":
		return c.stack(), true
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", c.region(), c.account(), c.stack(), derivedUUID("stack", c.stack())), true
	case "AWS::NotificationARNs":
		return []any{}, true
	}
	return nil, false
}

// region, account and stack are the stack's AWS::Region, AWS::AccountId
// and AWS::StackName.
func (c *converter) region() string  { return c.param("AWS::Region", DefaultTemplateRegion) }
func (c *converter) account() string { return c.param("AWS::AccountId", DefaultTemplateAccount) }
func (c *converter) stack() string   { return c.param("AWS::StackName", c.stackName) }

// param is the given value of parameter name, else def.
func (c *converter) param(name, def string) string {
	if v, ok := c.inputs.Parameters[name]; ok {
		return v
	}
	return def
}

// derivedUUID is a stable UUID-shaped ID of parts (version 4 layout).
func derivedUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// derivedLower is n stable lower-case letters and digits of parts.
func derivedLower(n int, parts ...string) string {
	return strings.ToLower(hashChars(strings.Join(parts, "\x00"), n))
}

// templateResource is one resource of the template.
type templateResource struct {
	typ   string
	props *object
}

// generatedName is the physical name CloudFormation generates for a
// resource without one: stack name, logical ID and a random suffix (here a
// hash), cut to max characters.
func (c *converter) generatedName(id string, max int, lower bool) string {
	suffix := hashChars("name\x00"+c.stack()+"\x00"+id, 12)
	prefix := c.stack() + "-" + id
	if len(prefix)+1+len(suffix) > max {
		prefix = prefix[:max-1-len(suffix)]
	}
	s := prefix + "-" + suffix
	if lower {
		s = strings.ToLower(s)
	}
	return s
}

// nameProp returns the resource's name property (resolved), or the name
// CloudFormation would generate.
func (c *converter) nameProp(id string, r templateResource, prop string, max int, lower bool, depth int) (string, error) {
	if v, ok := r.props.get(prop); ok {
		s, err := c.stringValue(v, depth+1)
		if at := "Resources." + id + ".Properties." + prop; err != nil && !strings.HasPrefix(err.Error(), at) {
			return "", fmt.Errorf("%s: %w", at, err)
		}
		return s, err
	}
	return c.generatedName(id, max, lower), nil
}

// resourceValue is Ref id (attr "") or Fn::GetAtt id.attr of a resource of
// the template, as CloudFormation returns it (the "Return values" of each
// resource type in the CloudFormation Template Reference).
func (c *converter) resourceValue(id, attr string, depth int) (any, error) {
	key := id + "\x00" + attr
	if m, ok := c.values[key]; ok {
		if !m.done {
			return nil, fmt.Errorf("Resources.%s: its value depends on itself", id)
		}
		return m.v, m.err
	}
	c.values[key] = memo{}
	v, err := c.computeResourceValue(id, attr, depth)
	c.values[key] = memo{v: v, err: err, done: true}
	return v, err
}

// memo is a value computed once (done false while it is being computed).
type memo struct {
	v    any
	err  error
	done bool
}

// computeResourceValue is resourceValue without the memo.
func (c *converter) computeResourceValue(id, attr string, depth int) (any, error) {
	r, ok := c.resources[id]
	if !ok {
		if attr == "" {
			return nil, fmt.Errorf("Ref %s: no parameter, pseudo parameter or resource has that name", id)
		}
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no resource %s in the template", id, attr, id)
	}
	what := "Ref " + id
	if attr != "" {
		what = "Fn::GetAtt " + id + "." + attr
	}
	region, account := c.region(), c.account()
	unknownAttr := func() (any, error) {
		return nil, fmt.Errorf("%s: edgefront does not know the %s attribute of %s; write the value itself", what, attr, r.typ)
	}
	switch r.typ {
	case "AWS::S3::Bucket":
		name, err := c.nameProp(id, r, "BucketName", 63, true, depth)
		if err != nil {
			return nil, err
		}
		switch attr {
		case "":
			return name, nil
		case "Arn":
			return "arn:aws:s3:::" + name, nil
		case "DomainName":
			return name + ".s3.amazonaws.com", nil
		case "RegionalDomainName":
			return name + ".s3." + region + ".amazonaws.com", nil
		case "DualStackDomainName":
			return name + ".s3.dualstack." + region + ".amazonaws.com", nil
		case "WebsiteURL":
			return "http://" + name + ".s3-website-" + region + ".amazonaws.com", nil
		}
		return unknownAttr()
	case "AWS::CloudFront::OriginAccessControl":
		if attr == "" || attr == "Id" {
			return "E" + hashChars("oac\x00"+c.stack()+"\x00"+id, 13), nil
		}
		return unknownAttr()
	case "AWS::CloudFront::CachePolicy", "AWS::CloudFront::OriginRequestPolicy", "AWS::CloudFront::ResponseHeadersPolicy",
		"AWS::CloudFront::KeyGroup", "AWS::CloudFront::ContinuousDeploymentPolicy":
		if attr == "" || attr == "Id" {
			return derivedUUID(r.typ, c.stack(), id), nil
		}
		return unknownAttr()
	case "AWS::CloudFront::PublicKey", "AWS::CloudFront::CloudFrontOriginAccessIdentity":
		switch attr {
		case "", "Id":
			return "K" + hashChars("key\x00"+c.stack()+"\x00"+id, 13), nil
		case "S3CanonicalUserId":
			return derivedLower(64, "canonical", c.stack(), id), nil
		}
		return unknownAttr()
	case "AWS::CloudFront::Distribution":
		switch attr {
		case "", "Id":
			return id, nil
		case "DomainName":
			return strings.ToLower(DeriveDomainName(id)), nil
		}
		return unknownAttr()
	case "AWS::CloudFront::KeyValueStore":
		sid := derivedUUID(r.typ, c.stack(), id)
		switch attr {
		case "Id":
			return sid, nil
		case "Arn":
			return "arn:aws:cloudfront::" + account + ":key-value-store/" + sid, nil
		case "Status":
			return "READY", nil
		case "":
			return c.nameProp(id, r, "Name", 64, false, depth)
		}
		return unknownAttr()
	case "AWS::CloudFront::Function":
		name, err := c.nameProp(id, r, "Name", 64, false, depth)
		if err != nil {
			return nil, err
		}
		switch attr {
		case "", "FunctionARN", "FunctionMetadata.FunctionARN":
			return "arn:aws:cloudfront::" + account + ":function/" + name, nil
		case "Stage":
			return "LIVE", nil
		}
		return unknownAttr()
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		name, err := c.nameProp(id, r, "Name", 32, false, depth)
		if err != nil {
			return nil, err
		}
		lbType := "app"
		if t, ok := r.props.get("Type"); ok {
			if s, err := c.stringValue(t, depth+1); err == nil && s == "network" {
				lbType = "net"
			}
		}
		arn := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s/%s/%s", region, account, lbType, name, derivedLower(16, "lb", c.stack(), id))
		switch attr {
		case "", "LoadBalancerArn":
			return arn, nil
		case "LoadBalancerName":
			return name, nil
		case "LoadBalancerFullName":
			return strings.TrimPrefix(arn[strings.Index(arn, ":loadbalancer/")+1:], "loadbalancer/"), nil
		case "DNSName":
			dns := strings.ToLower(name) + "-" + strconv.FormatUint(uint64(hashUint32("dns", c.stack(), id)), 10) + "." + region + ".elb.amazonaws.com"
			if s, ok := r.props.get("Scheme"); ok {
				if v, err := c.stringValue(s, depth+1); err == nil && v == "internal" {
					dns = "internal-" + dns
				}
			}
			return dns, nil
		}
		return unknownAttr()
	case "AWS::ApiGateway::RestApi":
		apiID := derivedLower(10, "restapi", c.stack(), id)
		switch attr {
		case "", "RestApiId":
			return apiID, nil
		case "RootResourceId":
			return derivedLower(10, "root", c.stack(), id), nil
		}
		return unknownAttr()
	case "AWS::ApiGatewayV2::Api":
		apiID := derivedLower(10, "httpapi", c.stack(), id)
		switch attr {
		case "", "ApiId":
			return apiID, nil
		case "ApiEndpoint":
			return "https://" + apiID + ".execute-api." + region + ".amazonaws.com", nil
		}
		return unknownAttr()
	case "AWS::Lambda::Function":
		name, err := c.nameProp(id, r, "FunctionName", 64, false, depth)
		if err != nil {
			return nil, err
		}
		switch attr {
		case "":
			return name, nil
		case "Arn":
			return "arn:aws:lambda:" + region + ":" + account + ":function:" + name, nil
		}
		return unknownAttr()
	case "AWS::Lambda::Version":
		fn, _ := r.props.get("FunctionName")
		name, err := c.stringValue(fn, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: Resources.%s.Properties.FunctionName: %w", what, id, err)
		}
		if !strings.HasPrefix(name, "arn:") {
			name = "arn:aws:lambda:" + region + ":" + account + ":function:" + name
		}
		switch attr {
		case "", "FunctionArn":
			return name + ":1", nil
		case "Version":
			return "1", nil
		}
		return unknownAttr()
	case "AWS::Lambda::Url":
		// Ref is the function's ARN (CDK's UrlReference names it
		// FunctionArn); the URL ID is 32 lower-case letters and digits.
		url := "https://" + derivedLower(32, "lambdaurl", c.stack(), id) + ".lambda-url." + region + ".on.aws/"
		switch attr {
		case "FunctionUrl":
			return url, nil
		case "", "FunctionArn":
			fn, _ := r.props.get("TargetFunctionArn")
			return c.stringValue(fn, depth+1)
		}
		return unknownAttr()
	case "AWS::CertificateManager::Certificate":
		if attr == "" {
			return "arn:aws:acm:" + region + ":" + account + ":certificate/" + derivedUUID("certificate", c.stack(), id), nil
		}
		return unknownAttr()
	}
	return nil, fmt.Errorf("%s: edgefront does not know what CloudFormation returns for a %s; write the value itself", what, r.typ)
}

// hashUint32 is a stable number of parts (the digits of an ELB DNS name).
func hashUint32(parts ...string) uint32 {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
}

// eval evaluates v when it is an intrinsic function (a one-key object named
// Ref, Condition or Fn::…); other values are returned as they are. A
// property to be omitted evaluates to noValue{}.
func (c *converter) eval(v any, depth int) (any, error) {
	if depth > 50 {
		return nil, errors.New("intrinsic functions nested too deeply")
	}
	o, ok := v.(*object)
	if !ok || len(o.keys) != 1 {
		return v, nil
	}
	fn := o.keys[0]
	arg := o.vals[fn]
	args := func(n int, form string) ([]any, error) {
		a, ok := arg.([]any)
		if !ok || len(a) != n {
			return nil, fmt.Errorf("%s takes %s", fn, form)
		}
		return a, nil
	}
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref takes a name, got %s", describe(arg))
		}
		return c.ref(name, depth)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case string:
			id, attr, _ = strings.Cut(a, ".")
		case []any:
			if len(a) == 2 {
				id, _ = a[0].(string)
				av, err := c.eval(a[1], depth+1)
				if err != nil {
					return nil, err
				}
				attr, _ = av.(string)
			}
		}
		if id == "" || attr == "" {
			return nil, errors.New("Fn::GetAtt takes [logicalId, attribute]")
		}
		return c.resourceValue(id, attr, depth+1)
	case "Fn::Sub", "Fn::Join":
		s, err := c.stringFunction(fn, arg, depth+1)
		return s, err
	case "Fn::Base64":
		s, err := c.stringValue(arg, depth+1)
		if err != nil {
			return nil, fmt.Errorf("Fn::Base64: %w", err)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::If":
		a, err := args(3, "[condition, value if true, value if false]")
		if err != nil {
			return nil, err
		}
		name, ok := a[0].(string)
		if !ok {
			return nil, errors.New("Fn::If takes a condition name first")
		}
		yes, err := c.condition(name, depth+1)
		if err != nil {
			return nil, fmt.Errorf("Fn::If: %w", err)
		}
		if yes {
			return c.eval(a[1], depth+1)
		}
		return c.eval(a[2], depth+1)
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition":
		return c.conditionValue(v, depth+1)
	case "Fn::Select":
		a, err := args(2, "[index, list]")
		if err != nil {
			return nil, err
		}
		is, err := c.stringValue(a[0], depth+1)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index: %w", err)
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %q is not a number", is)
		}
		lv, err := c.eval(a[1], depth+1)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: %w", err)
		}
		list, ok := lv.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Select takes a list, got %s", describe(lv))
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select index %d is outside the list of %d", i, len(list))
		}
		return c.eval(list[i], depth+1)
	case "Fn::Split":
		a, err := args(2, "[delimiter, string]")
		if err != nil {
			return nil, err
		}
		delim, ok := a[0].(string)
		if !ok || delim == "" {
			return nil, errors.New("Fn::Split takes a delimiter string first")
		}
		s, err := c.stringValue(a[1], depth+1)
		if err != nil {
			return nil, fmt.Errorf("Fn::Split: %w", err)
		}
		var out []any
		for _, part := range strings.Split(s, delim) {
			out = append(out, part)
		}
		return out, nil
	case "Fn::FindInMap":
		a, err := args(3, "[map, top-level key, second-level key]")
		if err != nil {
			return nil, err
		}
		var keys [3]string
		for i := range a {
			if keys[i], err = c.stringValue(a[i], depth+1); err != nil {
				return nil, fmt.Errorf("Fn::FindInMap: %w", err)
			}
		}
		m, _ := c.mappings.get(keys[0])
		mo, _ := m.(*object)
		top, _ := mo.get(keys[1])
		to, _ := top.(*object)
		val, ok := to.get(keys[2])
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: Mappings.%s.%s.%s is not in the template", keys[0], keys[1], keys[2])
		}
		return c.eval(val, depth+1)
	case "Fn::ImportValue":
		name, err := c.stringValue(arg, depth+1)
		if err != nil {
			return nil, fmt.Errorf("Fn::ImportValue: %w", err)
		}
		if v, ok := c.inputs.Imports[name]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("Fn::ImportValue %s: the export is another stack's; give its value (--parameter %s=VALUE)", name, name)
	}
	if strings.HasPrefix(fn, "Fn::") {
		return nil, fmt.Errorf("%s cannot be resolved outside CloudFormation; write the value itself", fn)
	}
	return v, nil
}

// condition evaluates the template's condition name (once).
func (c *converter) condition(name string, depth int) (bool, error) {
	if m, ok := c.conds[name]; ok {
		if !m.done {
			return false, fmt.Errorf("condition %s refers to itself", name)
		}
		b, _ := m.v.(bool)
		return b, m.err
	}
	expr, ok := c.conditions.get(name)
	if !ok {
		return false, fmt.Errorf("condition %s is not in the template's Conditions", name)
	}
	c.conds[name] = memo{}
	v, err := c.conditionValue(expr, depth+1)
	if err != nil {
		err = fmt.Errorf("Conditions.%s: %w", name, err)
	}
	c.conds[name] = memo{v: v, err: err, done: true}
	return v, err
}

// conditionValue evaluates a condition function.
func (c *converter) conditionValue(v any, depth int) (bool, error) {
	if depth > 50 {
		return false, errors.New("conditions nested too deeply")
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	o, ok := v.(*object)
	if !ok || len(o.keys) != 1 {
		return false, fmt.Errorf("expected a condition function, got %s", describe(v))
	}
	fn := o.keys[0]
	arg := o.vals[fn]
	list, _ := arg.([]any)
	switch fn {
	case "Condition":
		name, _ := arg.(string)
		return c.condition(name, depth+1)
	case "Fn::Equals":
		if len(list) != 2 {
			return false, errors.New("Fn::Equals takes [value, value]")
		}
		a, err := c.stringValue(list[0], depth+1)
		if err != nil {
			return false, fmt.Errorf("Fn::Equals: %w", err)
		}
		b, err := c.stringValue(list[1], depth+1)
		if err != nil {
			return false, fmt.Errorf("Fn::Equals: %w", err)
		}
		return a == b, nil
	case "Fn::Not":
		if len(list) != 1 {
			return false, errors.New("Fn::Not takes [condition]")
		}
		b, err := c.conditionValue(list[0], depth+1)
		return !b, err
	case "Fn::And", "Fn::Or":
		if len(list) < 2 {
			return false, fmt.Errorf("%s takes 2 to 10 conditions", fn)
		}
		for _, item := range list {
			b, err := c.conditionValue(item, depth+1)
			if err != nil {
				return false, err
			}
			if fn == "Fn::And" && !b {
				return false, nil
			}
			if fn == "Fn::Or" && b {
				return true, nil
			}
		}
		return fn == "Fn::And", nil
	}
	v2, err := c.eval(v, depth+1)
	if err != nil {
		return false, err
	}
	if b, ok := v2.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("%s is not a condition function", fn)
}

// deepEval evaluates every intrinsic function inside v (for resources read
// whole, such as policies); properties that evaluate to AWS::NoValue are
// dropped.
func (c *converter) deepEval(v any, depth int) (any, error) {
	v, err := c.eval(v, depth+1)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case *object:
		out := newObject()
		for _, k := range t.keys {
			sub, err := c.deepEval(t.vals[k], depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, omit := sub.(noValue); !omit {
				out.put(k, sub)
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(t))
		for i, item := range t {
			sub, err := c.deepEval(item, depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, omit := sub.(noValue); !omit {
				out = append(out, sub)
			}
		}
		return out, nil
	}
	return v, nil
}

// templatePolicyKinds maps the policy resource types to the property holding
// their configuration.
func templatePolicyKinds() map[string]string {
	return map[string]string{
		"AWS::CloudFront::CachePolicy":           "CachePolicyConfig",
		"AWS::CloudFront::OriginRequestPolicy":   "OriginRequestPolicyConfig",
		"AWS::CloudFront::ResponseHeadersPolicy": "ResponseHeadersPolicyConfig",
	}
}

// isTemplatePolicyType reports whether typ is a CloudFront policy resource.
func isTemplatePolicyType(typ string) bool {
	_, ok := templatePolicyKinds()[typ]
	return ok
}

// policy reads a policy resource of the template: its configuration with
// every intrinsic function resolved, in the API's shape (CloudFormation
// writes the Headers, Cookies and QueryStrings of cache and origin request
// policies as plain lists; the API wraps them in {Quantity, Items}), under
// the ID Ref gives it.
func (c *converter) policy(at, id, typ string, res *object) {
	key := templatePolicyKinds()[typ]
	v, ok := c.resourceConfig(at, key, res)
	if !ok {
		return
	}
	wrapPolicyLists(v, typ != "AWS::CloudFront::ResponseHeadersPolicy")
	pid, _ := c.resourceValue(id, "", 0)
	doc := newObject()
	doc.put("Id", pid)
	doc.put(key, v)
	c.policies = append(c.policies, templatePolicy{id: id, typ: typ, at: join(at, "Properties"), config: doc})
}

// wrapPolicyLists coerces v's string-typed scalars (policyScalar) and, when
// wrap, wraps the plain Headers, Cookies and QueryStrings lists found
// anywhere in v as {Items: list}.
func wrapPolicyLists(v any, wrap bool) {
	o, ok := v.(*object)
	if !ok {
		return
	}
	for _, k := range o.keys {
		switch sub := o.vals[k].(type) {
		case string, bool:
			o.vals[k] = policyScalar(k, sub)
		case []any:
			if wrap && (k == "Headers" || k == "Cookies" || k == "QueryStrings") {
				w := newObject()
				w.put("Items", sub)
				o.vals[k] = w
			}
		case *object:
			wrapPolicyLists(sub, wrap)
		}
	}
}

// policyScalar coerces the string-typed numbers and booleans CloudFormation
// accepts ("86400", "true") in a policy's numeric and boolean fields.
func policyScalar(key string, v any) any {
	switch {
	case strings.HasSuffix(key, "TTL"), strings.HasSuffix(key, "Sec"), key == "SamplingRate":
		if s, ok := v.(string); ok {
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return json.Number(strings.TrimSpace(s))
			}
		}
	case strings.HasPrefix(key, "Enable"), strings.HasPrefix(key, "Include"), key == "Override", key == "Preload",
		key == "Protection", key == "ModeBlock", key == "AccessControlAllowCredentials", key == "OriginOverride":
		return scalar(cfnBool, v)
	}
	return v
}

// templatePolicies registers the template's policies as custom policies,
// so the distributions' Ref to them find them.
func (l *loader) templatePolicies(p *problems, policies []templatePolicy) {
	for _, tp := range policies {
		switch tp.typ {
		case "AWS::CloudFront::CachePolicy":
			var cp CustomCachePolicy
			decodeInto(p, tp.at, tp.config, &cp)
			c := compileCachePolicy(p, tp.at, &cp)
			register(p, join(tp.at, "Id"), join(tp.at, "CachePolicyConfig.Name"), cp.Id, c.Name, l.pol.cache, c)
		case "AWS::CloudFront::OriginRequestPolicy":
			var op CustomOriginRequestPolicy
			decodeInto(p, tp.at, tp.config, &op)
			c := compileOriginRequestPolicy(p, tp.at, &op)
			register(p, join(tp.at, "Id"), join(tp.at, "OriginRequestPolicyConfig.Name"), op.Id, c.Name, l.pol.origin, c)
		case "AWS::CloudFront::ResponseHeadersPolicy":
			var rp CustomResponseHeadersPolicy
			decodeInto(p, tp.at, tp.config, &rp)
			c := compileResponseHeadersPolicy(p, tp.at, &rp)
			register(p, join(tp.at, "Id"), join(tp.at, "ResponseHeadersPolicyConfig.Name"), rp.Id, c.Name, l.pol.response, c)
		}
	}
}

// resourceConfig is the property key of the resource res at at (a
// policy's or key's configuration in the API's shape) with every intrinsic
// function resolved; a missing or unresolvable one is reported.
func (c *converter) resourceConfig(at, key string, res *object) (any, bool) {
	props, _ := res.vals["Properties"].(*object)
	raw, ok := props.get(key)
	path := join(join(at, "Properties"), key)
	if !ok {
		c.p.add(path, "is required")
		return nil, false
	}
	v, err := c.deepEval(raw, 0)
	if err != nil {
		c.p.add(path, "%v", err)
		return nil, false
	}
	return v, true
}

// keyResource reads an AWS::CloudFront::PublicKey or KeyGroup resource: its
// configuration (the API's PublicKeyConfig / KeyGroupConfig shape) with
// every intrinsic function resolved, under the ID Ref gives it.
func (c *converter) keyResource(at, id, typ string, res *object) {
	key := "PublicKeyConfig"
	if typ == "AWS::CloudFront::KeyGroup" {
		key = "KeyGroupConfig"
	}
	v, ok := c.resourceConfig(at, key, res)
	if !ok {
		return
	}
	kid, _ := c.resourceValue(id, "", 0)
	doc := newObject()
	doc.put("Id", kid)
	doc.put(key, v)
	c.keys = append(c.keys, templatePolicy{id: id, typ: typ, at: join(at, "Properties"), config: doc})
}

// templateKeys adds the template's public keys and key groups to keys, so
// the TrustedKeyGroups that Ref them verify signed URLs and cookies; their
// problems are reported under the template's resource paths.
func (l *loader) templateKeys(p *problems, keys []templatePolicy) {
	var pubs, groups []rawValue
	var pubAt, groupAt []string
	for _, k := range keys {
		if k.typ == "AWS::CloudFront::KeyGroup" {
			groups, groupAt = append(groups, rawValue{v: k.config, set: true}), append(groupAt, k.at)
		} else {
			pubs, pubAt = append(pubs, rawValue{v: k.config, set: true}), append(pubAt, k.at)
		}
	}
	if len(pubs)+len(groups) == 0 || l.keys == nil {
		return
	}
	tp := newProblems(p.file)
	k := compileKeys(tp, pubs, groups, nil, l.dir)
	for _, e := range tp.sorted() {
		field := e.Field
		for i, at := range pubAt {
			if rest, ok := strings.CutPrefix(field, index("publicKeys", i)); ok {
				field = at + rest
			}
		}
		for i, at := range groupAt {
			if rest, ok := strings.CutPrefix(field, index("keyGroups", i)); ok {
				field = at + rest
			}
		}
		p.add(field, "%s", e.Reason)
	}
	for id, pk := range k.PublicKeys {
		l.keys.PublicKeys[id] = pk
	}
	for id, g := range k.KeyGroups {
		l.keys.KeyGroups[id] = g
	}
}
