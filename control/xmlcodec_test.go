package control

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// FuzzDecodeDistributionConfig feeds arbitrary bodies to the
// DistributionConfig decoder: it must not panic, and what it accepts must
// encode and decode to the same value.
func FuzzDecodeDistributionConfig(f *testing.F) {
	f.Add(`<DistributionConfig xmlns="` + Namespace + `"><CallerReference>r</CallerReference><Aliases><Quantity>1</Quantity><Items><CNAME>a.example</CNAME></Items></Aliases><Enabled>true</Enabled></DistributionConfig>`)
	f.Add(`<DistributionConfig><DefaultCacheBehavior><TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners><AllowedMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items><CachedMethods><Items><Method>GET</Method></Items></CachedMethods></AllowedMethods></DefaultCacheBehavior></DistributionConfig>`)
	f.Fuzz(func(t *testing.T, body string) {
		var dc config.DistributionConfig
		if err := decodeXML(xml.NewDecoder(bytes.NewReader([]byte(body))), "DistributionConfig", &dc); err != nil {
			return
		}
		var buf bytes.Buffer
		enc := xml.NewEncoder(&buf)
		if err := encodeXML(enc, "DistributionConfig", Namespace, reflect.ValueOf(&dc)); err != nil {
			t.Fatalf("encode what was decoded: %v", err)
		}
		if err := enc.Flush(); err != nil {
			t.Fatal(err)
		}
		var again config.DistributionConfig
		if err := decodeXML(xml.NewDecoder(&buf), "DistributionConfig", &again); err != nil {
			t.Fatalf("decode %s: %v", buf.String(), err)
		}
		if !reflect.DeepEqual(dc, again) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", dc, again)
		}
	})
}
