package config

import (
	"path/filepath"
	"strings"
	"time"
)

// This file is a template's AWS::Lambda::Function resources with inline
// code (Code.ZipFile, as CDK's inline code and hand-written templates
// have it): made into the configuration's Lambda@Edge functions under the
// ARN Fn::GetAtt gives them, so that the distributions'
// LambdaFunctionAssociations — through an AWS::Lambda::Version or the
// function itself — find them. A function whose code is in S3 (Code.S3Bucket)
// still needs a settings lambdaFunctions entry or a lambdaEndpoint.

// templateLambda is one AWS::Lambda::Function resource with its properties
// resolved.
type templateLambda struct {
	id, at string
	arn    string
	props  *object
}

// lambdaResource reads an AWS::Lambda::Function resource.
func (c *converter) lambdaResource(at, id string, res *object) {
	props, _ := res.vals["Properties"].(*object)
	path := join(at, "Properties")
	v, err := c.deepEval(props, 0)
	if err != nil {
		c.p.add(path, "%v", err)
		return
	}
	resolved, _ := v.(*object)
	arn, err := c.resourceValue(id, "Arn", 0)
	if err != nil {
		c.p.add(path, "%v", err)
		return
	}
	s, _ := arn.(string)
	c.lambdas = append(c.lambdas, templateLambda{id: id, at: path, arn: s, props: resolved})
}

// templateLambdas adds the template's functions with inline code to the
// Lambda@Edge functions associations may name (the configuration's
// LambdaFunctions, which l.pol.lambda shares); a settings entry of the same
// ARN wins.
func (l *loader) templateLambdas(p *problems, tls []templateLambda) {
	fns := l.pol.lambda.functions
	if fns == nil {
		return
	}
	for _, tl := range tls {
		code, _ := tl.props.get("Code")
		co, _ := code.(*object)
		zip, _ := co.get("ZipFile")
		src, ok := zip.(string)
		if !ok {
			continue // code in S3: the settings or the endpoint must supply it
		}
		runtime, _ := tl.props.get("Runtime")
		handler, _ := tl.props.get("Handler")
		rt, _ := runtime.(string)
		h, _ := handler.(string)
		if !oneOf(p, join(tl.at, "Runtime"), rt, LambdaRuntimes...) {
			continue
		}
		if fn, ok := strings.CutPrefix(filepath.Ext(h), "."); !ok || fn == "" {
			p.add(join(tl.at, "Handler"), "%q is not FILE.FUNCTION, e.g. index.handler", h)
			continue
		}
		_, name, _, _ := splitLambdaARN(tl.arn)
		f := &LambdaFunction{ARN: tl.arn, Name: name, Runtime: rt, Handler: h, Code: src}
		if t, ok := tl.props.get("Timeout"); ok {
			if n, ok := t.(float64); ok && n > 0 {
				f.Timeout = min(time.Duration(n)*time.Second, MaxLambdaTimeout)
			}
		}
		if _, dup := fns[f.ARN]; !dup {
			fns[f.ARN] = f
		}
	}
}
