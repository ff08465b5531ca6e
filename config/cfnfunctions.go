package config

// This file is a template's AWS::CloudFront::Function and
// AWS::CloudFront::KeyValueStore resources: inline FunctionCode,
// FunctionConfig.Runtime and KeyValueStoreAssociations, made into the
// configuration's functions under the ARN Fn::GetAtt gives them, so the
// distributions' FunctionAssociations find them.

// templateFunction is one function or key value store resource with its
// properties resolved.
type templateFunction struct {
	id, typ, at string
	name, arn   string // the resource's Name and ARN, as Ref/GetAtt give them
	storeID     string // a key value store's Id
	props       *object
}

// functionResource reads a function or key value store resource.
func (c *converter) functionResource(at, id, typ string, res *object) {
	props, _ := res.vals["Properties"].(*object)
	path := join(at, "Properties")
	v, err := c.deepEval(props, 0)
	if err != nil {
		c.p.add(path, "%v", err)
		return
	}
	resolved, _ := v.(*object)
	tf := templateFunction{id: id, typ: typ, at: path, props: resolved}
	attr := "FunctionARN"
	if typ == "AWS::CloudFront::KeyValueStore" {
		attr = "Arn"
		sid, err := c.resourceValue(id, "Id", 0)
		if err != nil {
			c.p.add(path, "%v", err)
			return
		}
		tf.storeID, _ = sid.(string)
	}
	arn, err := c.resourceValue(id, attr, 0)
	if err != nil {
		c.p.add(path, "%v", err)
		return
	}
	tf.arn, _ = arn.(string)
	tf.name, _ = c.nameProp(id, c.resources[id], "Name", 64, false, 0)
	c.functions = append(c.functions, tf)
}

// templateFunctions adds the template's key value stores and functions to
// the configuration's. A store's data comes from the settings'
// keyValueStores entry of the same name (its ImportSource is in S3, which
// edgefront does not read); without one the store is empty.
func (l *loader) templateFunctions(p *problems, tfs []templateFunction) {
	if l.pol.functions == nil || l.stores == nil {
		return
	}
	byARN := map[string]*KeyValueStore{}
	for _, tf := range tfs {
		if tf.typ != "AWS::CloudFront::KeyValueStore" {
			continue
		}
		kv, ok := l.stores[tf.name]
		if !ok {
			kv = &KeyValueStore{Name: tf.name, Data: map[string]string{}}
			l.stores[tf.name] = kv
		}
		kv.ID, kv.ARN = tf.storeID, tf.arn
		byARN[tf.arn] = kv
	}
	for _, tf := range tfs {
		if tf.typ != "AWS::CloudFront::Function" {
			continue
		}
		code, _ := tf.props.get("FunctionCode")
		src, ok := code.(string)
		if !ok {
			p.add(join(tf.at, "FunctionCode"), "is required: the function's code inline (a string)")
			continue
		}
		fn := &Function{Name: tf.name, ARN: tf.arn, Runtime: FunctionRuntime1, Code: src}
		fc, _ := tf.props.get("FunctionConfig")
		fco, _ := fc.(*object)
		if rt, ok := fco.get("Runtime"); ok {
			fn.Runtime, _ = rt.(string)
		}
		if !oneOf(p, join(tf.at, "FunctionConfig.Runtime"), fn.Runtime, FunctionRuntime1, FunctionRuntime2) {
			continue
		}
		assoc, _ := fco.get("KeyValueStoreAssociations")
		list, _ := assoc.([]any)
		for i, a := range list {
			ao, _ := a.(*object)
			v, _ := ao.get("KeyValueStoreARN")
			arn, _ := v.(string)
			field := join(index(join(tf.at, "FunctionConfig.KeyValueStoreAssociations"), i), "KeyValueStoreARN")
			kv, ok := byARN[arn]
			if !ok {
				p.add(field, "%q is no AWS::CloudFront::KeyValueStore of the template", arn)
				continue
			}
			fn.KeyValueStores = append(fn.KeyValueStores, kv)
		}
		if err := checkFunctionCode(fn); err != nil {
			p.add(join(tf.at, "FunctionCode"), "%v", err)
			continue
		}
		if _, dup := l.pol.functions[fn.ARN]; dup {
			p.add(join(tf.at, "Name"), "function %s is also defined in the settings", fn.Name)
			continue
		}
		l.pol.functions[fn.ARN] = fn
	}
}
