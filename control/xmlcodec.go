package control

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/edgefront/edgefront/config"
)

// This file maps config's DistributionConfig types to and from CloudFront's
// XML. The element names are the types' json names (config declares them
// exactly as the API spells them); lists are {Quantity, Items} with one
// element per item, named per list (itemNames). The walk is driven by the Go
// types, so an element config does not know is an error, as in CloudFront.

// itemNames maps the element holding a {Quantity, Items} list to the name
// of one item element, as the 2020-05-31 API (aws-sdk-go-v2 cloudfront
// serializers) spells them.
var itemNames = map[string]string{
	"Aliases":                    "CNAME",
	"Origins":                    "Origin",
	"OriginGroups":               "OriginGroup",
	"CacheBehaviors":             "CacheBehavior",
	"CustomErrorResponses":       "CustomErrorResponse",
	"CustomHeaders":              "OriginCustomHeader",
	"OriginSslProtocols":         "SslProtocol",
	"Members":                    "OriginGroupMember",
	"StatusCodes":                "StatusCode",
	"TrustedSigners":             "AwsAccountNumber",
	"TrustedKeyGroups":           "KeyGroup",
	"AllowedMethods":             "Method",
	"CachedMethods":              "Method",
	"LambdaFunctionAssociations": "LambdaFunctionAssociation",
	"FunctionAssociations":       "FunctionAssociation",
	"Headers":                    "Name",
	"QueryStringCacheKeys":       "Name",
	"WhitelistedNames":           "Name",
	"GeoRestriction":             "Location",
	"Paths":                      "Path",
	"InvalidationList":           "InvalidationSummary",
	"DistributionList":           "DistributionSummary",
	"KeyValueStoreAssociations":  "KeyValueStoreAssociation",
	"FunctionList":               "FunctionSummary",
	"KeyValueStoreList":          "KeyValueStore",
	"Tags":                       "Tag",
}

// alwaysPrinted are the strings the API prints even when empty (the SDKs
// require them back).
var alwaysPrinted = map[string]bool{"CallerReference": true, "Comment": true}

// memberName is the item element of a plain list (TenantConfig's
// ParameterDefinitions): smithy's default.
const memberName = "member"

// xmlFields lists the elements of struct type t: the configuration's own
// field names, which CloudFront's XML shares.
func xmlFields(t reflect.Type) []config.Field { return config.StructFields(t) }

func isList(fields []config.Field) bool {
	q, items := false, false
	for _, f := range fields {
		q = q || f.Name == "Quantity"
		items = items || f.Name == "Items"
	}
	return q && items
}

// encodeXML writes v as the element name (with xmlns when ns is set).
func encodeXML(e *xml.Encoder, name, ns string, v reflect.Value) error {
	start := xml.StartElement{Name: xml.Name{Local: name}}
	if ns != "" {
		start.Attr = []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}
	}
	return encodeValue(e, start, v, false)
}

func encodeValue(e *xml.Encoder, start xml.StartElement, v reflect.Value, omitEmpty bool) error {
	name := start.Name.Local
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return encodeValue(e, start, v.Elem(), false)
	case reflect.Struct:
		if err := e.EncodeToken(start); err != nil {
			return err
		}
		fields := xmlFields(v.Type())
		list := isList(fields)
		for _, f := range fields {
			fv := v.FieldByIndex(f.Index)
			switch {
			case list && f.Name == "Quantity" && fv.IsNil():
				items := v.FieldByIndex(fieldByName(fields, "Items").Index)
				if err := textElement(e, f.Name, strconv.Itoa(items.Len())); err != nil {
					return err
				}
			case list && f.Name == "Items":
				if fv.Len() == 0 {
					continue
				}
				if err := encodeItems(e, f.Name, itemNames[name], fv); err != nil {
					return err
				}
			default:
				if err := encodeValue(e, xml.StartElement{Name: xml.Name{Local: f.Name}}, fv, f.OmitEmpty); err != nil {
					return err
				}
			}
		}
		return e.EncodeToken(start.End())
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		return encodeItems(e, name, memberName, v)
	case reflect.String:
		if omitEmpty && v.Len() == 0 && !alwaysPrinted[name] {
			return nil
		}
		return textElement(e, name, v.String())
	case reflect.Bool:
		return textElement(e, name, strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int32, reflect.Int64:
		return textElement(e, name, strconv.FormatInt(v.Int(), 10))
	}
	return fmt.Errorf("control: cannot encode %s as XML", v.Type())
}

func encodeItems(e *xml.Encoder, name, item string, v reflect.Value) error {
	start := xml.StartElement{Name: xml.Name{Local: name}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := 0; i < v.Len(); i++ {
		if err := encodeValue(e, xml.StartElement{Name: xml.Name{Local: item}}, v.Index(i), false); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

func textElement(e *xml.Encoder, name, text string) error {
	start := xml.StartElement{Name: xml.Name{Local: name}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeToken(xml.CharData(text)); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func fieldByName(fields []config.Field, name string) config.Field {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return config.Field{}
}

// inputError is a problem with a request body: CloudFront's MalformedInput
// or InconsistentQuantities.
type inputError struct {
	code, msg string
}

func (e *inputError) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &inputError{code: "MalformedInput", msg: fmt.Sprintf(format, args...)}
}

// decodeXML reads the document's root element, which must be name, into v
// (a pointer). Element names are matched exactly; the namespace is not
// checked.
func decodeXML(d *xml.Decoder, name string, v any) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed("expected a %s document: %v", name, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != name {
				return malformed("the root element is %s, expected %s", t.Name.Local, name)
			}
			if err := decodeValue(d, t, reflect.ValueOf(v).Elem(), name); err != nil {
				return err
			}
			return trailing(d)
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return malformed("text outside the %s element", name)
			}
		}
	}
}

// trailing checks that only blanks, comments and processing instructions
// follow the root element.
func trailing(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return malformed("unexpected element %s after the root element", t.Name.Local)
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return malformed("unexpected text after the root element")
			}
		}
	}
}

// decodeValue decodes the element start (already read) into v; path names
// it in errors.
func decodeValue(d *xml.Decoder, start xml.StartElement, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := decodeValue(d, start, nv.Elem(), path); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.Struct:
		return decodeStruct(d, v, path)
	case reflect.Slice:
		return decodeItems(d, v, memberName, path)
	}
	text, err := elementText(d, path)
	if err != nil {
		return err
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil || strings.TrimSpace(text) != "true" && strings.TrimSpace(text) != "false" {
			return malformed("%s: expected true or false, got %q", path, text)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return malformed("%s: expected an integer, got %q", path, text)
		}
		v.SetInt(n)
	default:
		return fmt.Errorf("control: cannot decode XML into %s", v.Type())
	}
	return nil
}

func decodeStruct(d *xml.Decoder, v reflect.Value, path string) error {
	fields := xmlFields(v.Type())
	list := isList(fields)
	seen := map[string]bool{}
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed("%s: %v", path, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			f := fieldByName(fields, name)
			if f.Index == nil {
				return malformed("%s: unexpected element %s", path, name)
			}
			if seen[name] {
				return malformed("%s: element %s given twice", path, name)
			}
			seen[name] = true
			fv := v.FieldByIndex(f.Index)
			fpath := path + "." + name
			if list && name == "Items" {
				last := path[strings.LastIndexByte(path, '.')+1:]
				if err := decodeItems(d, fv, itemNames[last], fpath); err != nil {
					return err
				}
				continue
			}
			if err := decodeValue(d, t, fv, fpath); err != nil {
				return err
			}
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return malformed("%s: unexpected text %q", path, strings.TrimSpace(string(t)))
			}
		case xml.EndElement:
			if list {
				return checkQuantity(v, fields, path)
			}
			return nil
		}
	}
}

// checkQuantity reports a list whose Quantity is not the number of Items;
// an omitted Quantity is derived.
func checkQuantity(v reflect.Value, fields []config.Field, path string) error {
	q := v.FieldByIndex(fieldByName(fields, "Quantity").Index)
	n := v.FieldByIndex(fieldByName(fields, "Items").Index).Len()
	if q.IsNil() {
		q.Set(reflect.ValueOf(&n))
		return nil
	}
	if got := q.Elem().Int(); got != int64(n) {
		return &inputError{code: "InconsistentQuantities", msg: fmt.Sprintf("%s: Quantity is %d but Items has %d entries", path, got, n)}
	}
	return nil
}

// decodeItems decodes the children of a list element, each named item.
func decodeItems(d *xml.Decoder, v reflect.Value, item, path string) error {
	s := reflect.MakeSlice(v.Type(), 0, 0)
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed("%s: %v", path, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != item {
				return malformed("%s: unexpected element %s (items are %s)", path, t.Name.Local, item)
			}
			if s.Len() >= maxListItems {
				return malformed("%s: more than %d items", path, maxListItems)
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(d, t, ev, fmt.Sprintf("%s[%d]", path, s.Len())); err != nil {
				return err
			}
			s = reflect.Append(s, ev)
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return malformed("%s: unexpected text", path)
			}
		case xml.EndElement:
			v.Set(s)
			return nil
		}
	}
}

// maxListItems bounds one list of a request body (an invalidation batch may
// name 3,000 paths; a DistributionConfig's lists are far shorter).
const maxListItems = 10000

// elementText reads the text of a simple element up to its end.
func elementText(d *xml.Decoder, path string) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", malformed("%s: %v", path, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", malformed("%s: unexpected element %s in a simple value", path, t.Name.Local)
		case xml.EndElement:
			return b.String(), nil
		}
	}
}
