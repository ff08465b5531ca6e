package config

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestLoadKeys(t *testing.T) {
	cfg, err := Load("testdata/keys.json")
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Keys
	if _, ok := k.PublicKeys["K2JCJMDEHXQW5F"].Key.(*rsa.PublicKey); !ok {
		t.Errorf("K2JCJMDEHXQW5F (get-public-key shape): key %T", k.PublicKeys["K2JCJMDEHXQW5F"])
	}
	if pk := k.PublicKeys["KECEXAMPLE0001"]; pk == nil || pk.Name != "ec-key" {
		t.Fatalf("KECEXAMPLE0001 (short form, keyFile): %+v", pk)
	} else if _, ok := pk.Key.(*ecdsa.PublicKey); !ok {
		t.Errorf("KECEXAMPLE0001: key %T", pk.Key)
	}
	g := k.KeyGroups["b3f8e1a2-0000-4c6d-9e7f-111111111111"]
	if g == nil || g.Name != "my-group" || len(g.Keys) != 2 || g.Keys["K2JCJMDEHXQW5F"] != k.PublicKeys["K2JCJMDEHXQW5F"] {
		t.Errorf("key group (get-key-group shape) = %+v", g)
	}
	if g := k.KeyGroups["ec-only"]; g == nil || len(g.Keys) != 1 || g.Keys["KECEXAMPLE0001"] == nil {
		t.Errorf("key group (short form) = %+v", g)
	}
	if kp := k.KeyPairs["APKAEXAMPLE000C"]; kp == nil || kp.Account != "self" {
		t.Errorf("key pair without account = %+v, want account self", kp)
	}
	if kp := k.KeyPairs["APKAEXAMPLE000D"]; kp == nil || kp.Account != "111122223333" {
		t.Errorf("key pair with account = %+v", kp)
	}
	// The distribution's behaviour names the key group the settings define.
	if got := cfg.Distributions[0].Behaviors[1].TrustedKeyGroups; !slices.Equal(got, []string{"b3f8e1a2-0000-4c6d-9e7f-111111111111"}) {
		t.Errorf("TrustedKeyGroups = %q", got)
	}
}

func TestLoadWithoutKeys(t *testing.T) {
	// A DistributionConfig alone has no keys: Keys is empty, not nil, and a
	// behaviour trusting a key group is still valid (its requests are refused).
	cfg, err := Load("testdata/distribution.json")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Keys == nil || len(cfg.Keys.PublicKeys)+len(cfg.Keys.KeyGroups)+len(cfg.Keys.KeyPairs) != 0 {
		t.Errorf("Keys = %+v, want empty", cfg.Keys)
	}
}

func TestKeysErrors(t *testing.T) {
	pem := func(name string) string {
		data, err := os.ReadFile("testdata/keys/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(strings.TrimSpace(string(data)), "\n", "\\n")
	}
	rsaA, rsa1024 := pem("rsa-a.pub.pem"), pem("rsa-1024.pub.pem")
	const dist = `, "distributions": [{"config": {"Origins": {"Items": [{"Id": "o", "DomainName": "127.0.0.1", "CustomOriginConfig": {"OriginProtocolPolicy": "http-only"}}]},
		"DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}}]}`
	tests := []struct {
		name     string
		settings string // the settings file up to the distributions
		want     []string
	}{
		{"public key without ID or key", `{"publicKeys": [{"name": "x"}]`,
			[]string{`publicKeys[0].id: is required`, `publicKeys[0].encodedKey: is required (a PEM public key)`}},
		{"not PEM", `{"publicKeys": [{"id": "K1", "encodedKey": "ssh-rsa AAAA"}]`,
			[]string{`publicKeys[0].encodedKey: is not a PEM public key (-----BEGIN PUBLIC KEY-----)`}},
		{"a private key", `{"publicKeys": [{"id": "K1", "encodedKey": "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"}]`,
			[]string{`publicKeys[0].encodedKey: is a private key: give the public key (openssl rsa -pubout)`}},
		{"RSA 1024", `{"publicKeys": [{"Id": "K1", "PublicKeyConfig": {"Name": "small", "EncodedKey": "` + rsa1024 + `"}}]`,
			[]string{`publicKeys[0].PublicKeyConfig.EncodedKey: CloudFront accepts RSA keys of 2048 bits only (this one has 1024)`}},
		{"both encodedKey and keyFile", `{"publicKeys": [{"id": "K1", "encodedKey": "` + rsaA + `", "keyFile": "keys/rsa-a.pub.pem"}]`,
			[]string{`publicKeys[0].keyFile: give encodedKey or keyFile, not both`}},
		{"missing key file", `{"publicKeys": [{"id": "K1", "keyFile": "keys/nope.pem"}]`,
			[]string{`publicKeys[0].keyFile: open testdata/keys/nope.pem: no such file or directory`}},
		{"duplicate public key", `{"publicKeys": [{"id": "K1", "encodedKey": "` + rsaA + `"}, {"id": "K1", "keyFile": "keys/rsa-a.pub.pem"}]`,
			[]string{`publicKeys[1].id: "K1" is the ID of another public key`}},
		{"key group naming an unknown key", `{"publicKeys": [{"id": "K1", "encodedKey": "` + rsaA + `"}], "keyGroups": [{"id": "g", "publicKeys": ["K1", "K9"]}]`,
			[]string{`keyGroups[0].publicKeys[1]: "K9" names no public key (publicKeys: K1)`}},
		{"empty key group", `{"keyGroups": [{"KeyGroup": {"Id": "g", "KeyGroupConfig": {"Name": "g", "Items": []}}}]`,
			[]string{`keyGroups[0].KeyGroup.KeyGroupConfig.Items: at least one public key is required`}},
		{"six keys in a group", `{"publicKeys": [{"id": "K1", "encodedKey": "` + rsaA + `"}], "keyGroups": [{"id": "g", "publicKeys": ["K1", "K1", "K1", "K1", "K1", "K1"]}]`,
			[]string{`keyGroups[0].publicKeys: a key group holds at most 5 public keys (got 6)`}},
		{"bad key pair", `{"keyPairs": [{"id": "APKA 1", "account": "me", "keyFile": "keys/ec-a.pub.pem"}]`,
			[]string{`keyPairs[0].account: "me" is not "self" or a 12-digit AWS account ID`, `keyPairs[0].id: "APKA 1" is not an ID (letters, digits, '-' and '_')`, `keyPairs[0].keyFile: a CloudFront key pair is an RSA 2048 key`}},
		{"unknown field", `{"publicKeys": [{"id": "K1", "encodedKey": "` + rsaA + `", "comment": "x"}]`,
			[]string{`publicKeys[0].comment: unknown field`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("testdata/keys-test.json", []byte(tc.settings+dist))
			if err == nil {
				t.Fatal("no error")
			}
			got := errorLines(t, err)
			for _, w := range tc.want {
				w = "testdata/keys-test.json: " + w
				found := false
				for _, g := range got {
					if g == w || strings.HasPrefix(g, w+" ") {
						found = true
					}
				}
				if !found {
					t.Errorf("missing error\n  %s\ngot\n  %s", w, strings.Join(got, "\n  "))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n  %s", len(got), len(tc.want), strings.Join(got, "\n  "))
			}
		})
	}
}
