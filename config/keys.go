package config

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strconv"
	"strings"
)

// This file is the key material of signed URLs and signed cookies, kept in
// the settings file beside the distributions (CloudFront keeps it at the
// account level, not in a DistributionConfig):
//
//	publicKeys:  # `aws cloudfront get-public-key` output, or {id, name, encodedKey | keyFile}
//	keyGroups:   # `aws cloudfront get-key-group` output, or {id, name, publicKeys: [ids]}
//	keyPairs:    # legacy CloudFront key pairs of trusted signers: {id, account, encodedKey | keyFile}
//
// A behaviour's TrustedKeyGroups name key groups by ID, its TrustedSigners
// name accounts ("self" or a 12-digit ID) whose keyPairs sign. A behaviour
// may name a key group that is not configured (a bare DistributionConfig
// carries no keys): every signed request to it is then refused.

// Keys is the compiled key material for signed URLs and signed cookies. It
// is never nil in a loaded Config.
type Keys struct {
	PublicKeys map[string]*PublicKey // by public key ID, e.g. K2JCJMDEHXQW5F
	KeyGroups  map[string]*KeyGroup  // by key group ID
	KeyPairs   map[string]*KeyPair   // legacy CloudFront key pairs, by key pair ID
}

// PublicKey is one CloudFront public key.
type PublicKey struct {
	ID, Name string
	// Key is an *rsa.PublicKey (2048 bits) or an *ecdsa.PublicKey (P-256),
	// the two kinds CloudFront accepts for signed URLs and cookies.
	Key crypto.PublicKey
}

// KeyGroup is one CloudFront key group: the public keys a behaviour that
// trusts the group accepts signatures from.
type KeyGroup struct {
	ID, Name string
	Keys     map[string]*PublicKey // by public key ID
}

// KeyPair is one legacy CloudFront key pair of an AWS account (a trusted
// signer): its ID (APKA…) and RSA public key.
type KeyPair struct {
	ID      string
	Account string // "self" or a 12-digit AWS account ID
	Key     crypto.PublicKey
}

// MaxKeysPerGroup is CloudFront's quota of public keys in one key group.
const MaxKeysPerGroup = 5

// publicKeyDoc is a public key as `aws cloudfront get-public-key` prints it
// (inside {"PublicKey": …, "ETag": …}, which the loader also accepts).
type publicKeyDoc struct {
	Id              string              `json:"Id"`
	CreatedTime     string              `json:"CreatedTime"`
	PublicKeyConfig *publicKeyConfigDoc `json:"PublicKeyConfig"`
}

type publicKeyConfigDoc struct {
	CallerReference string `json:"CallerReference"`
	Name            string `json:"Name"`
	EncodedKey      string `json:"EncodedKey"`
	Comment         string `json:"Comment"`
}

// publicKeyShort is edgefront's short form of a public key.
type publicKeyShort struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	EncodedKey string `json:"encodedKey"`
	KeyFile    string `json:"keyFile"`
}

// keyGroupDoc is a key group as `aws cloudfront get-key-group` prints it.
type keyGroupDoc struct {
	Id               string             `json:"Id"`
	LastModifiedTime string             `json:"LastModifiedTime"`
	KeyGroupConfig   *keyGroupConfigDoc `json:"KeyGroupConfig"`
}

type keyGroupConfigDoc struct {
	Name    string   `json:"Name"`
	Items   []string `json:"Items"`
	Comment string   `json:"Comment"`
}

// keyGroupShort is edgefront's short form of a key group.
type keyGroupShort struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PublicKeys []string `json:"publicKeys"`
}

// keyPairSettings is one legacy CloudFront key pair.
type keyPairSettings struct {
	ID         string `json:"id"`
	Account    string `json:"account"`
	EncodedKey string `json:"encodedKey"`
	KeyFile    string `json:"keyFile"`
}

// compileKeys compiles the publicKeys, keyGroups and keyPairs of the
// settings file; dir resolves relative keyFile names.
func compileKeys(p *problems, publicKeys, keyGroups, keyPairs []rawValue, dir string) *Keys {
	k := &Keys{PublicKeys: map[string]*PublicKey{}, KeyGroups: map[string]*KeyGroup{}, KeyPairs: map[string]*KeyPair{}}
	for i, raw := range publicKeys {
		v, path := unwrap(raw.v, index("publicKeys", i), "PublicKey")
		var pk PublicKey
		var encoded, file, idField, keyField string
		if isAPIShape(v, "Id", "PublicKeyConfig") {
			var d publicKeyDoc
			decodeInto(p, path, v, &d)
			pk.ID, idField = d.Id, join(path, "Id")
			keyField = join(path, "PublicKeyConfig.EncodedKey")
			if d.PublicKeyConfig == nil {
				p.add(join(path, "PublicKeyConfig"), "is required")
			} else {
				pk.Name, encoded = d.PublicKeyConfig.Name, d.PublicKeyConfig.EncodedKey
			}
		} else {
			var s publicKeyShort
			decodeInto(p, path, v, &s)
			pk.ID, pk.Name, encoded, file = s.ID, s.Name, s.EncodedKey, resolve(dir, s.KeyFile)
			idField, keyField = join(path, "id"), join(path, "encodedKey")
			if file != "" {
				keyField = join(path, "keyFile")
			}
		}
		checkKeyID(p, idField, pk.ID)
		if _, dup := k.PublicKeys[pk.ID]; dup && pk.ID != "" {
			p.add(idField, "%q is the ID of another public key", pk.ID)
		}
		pk.Key = loadPublicKey(p, keyField, encoded, file, false)
		if pk.ID != "" && pk.Key != nil {
			k.PublicKeys[pk.ID] = &pk
		}
	}
	for i, raw := range keyGroups {
		v, path := unwrap(raw.v, index("keyGroups", i), "KeyGroup")
		g := &KeyGroup{Keys: map[string]*PublicKey{}}
		var items []string
		var idField, itemsField string
		if isAPIShape(v, "Id", "KeyGroupConfig") {
			var d keyGroupDoc
			decodeInto(p, path, v, &d)
			g.ID, idField, itemsField = d.Id, join(path, "Id"), join(path, "KeyGroupConfig.Items")
			if d.KeyGroupConfig == nil {
				p.add(join(path, "KeyGroupConfig"), "is required")
			} else {
				g.Name, items = d.KeyGroupConfig.Name, d.KeyGroupConfig.Items
			}
		} else {
			var s keyGroupShort
			decodeInto(p, path, v, &s)
			g.ID, g.Name, items = s.ID, s.Name, s.PublicKeys
			idField, itemsField = join(path, "id"), join(path, "publicKeys")
		}
		checkKeyID(p, idField, g.ID)
		if _, dup := k.KeyGroups[g.ID]; dup && g.ID != "" {
			p.add(idField, "%q is the ID of another key group", g.ID)
		}
		switch {
		case len(items) == 0:
			p.add(itemsField, "at least one public key is required")
		case len(items) > MaxKeysPerGroup:
			p.add(itemsField, "a key group holds at most %d public keys (got %d)", MaxKeysPerGroup, len(items))
		}
		for j, id := range items {
			pk, ok := k.PublicKeys[id]
			if !ok {
				p.add(index(itemsField, j), "%q names no public key (publicKeys: %s)", id, describeKeys(k.PublicKeys))
				continue
			}
			g.Keys[id] = pk
		}
		if g.ID != "" {
			k.KeyGroups[g.ID] = g
		}
	}
	for i, raw := range keyPairs {
		path := index("keyPairs", i)
		var s keyPairSettings
		decodeInto(p, path, raw.v, &s)
		kp := &KeyPair{ID: s.ID, Account: s.Account}
		if kp.Account == "" {
			kp.Account = "self"
		} else if !isAccount(kp.Account) {
			p.add(join(path, "account"), "%q is not \"self\" or a 12-digit AWS account ID", kp.Account)
		}
		checkKeyID(p, join(path, "id"), kp.ID)
		if _, dup := k.KeyPairs[kp.ID]; dup && kp.ID != "" {
			p.add(join(path, "id"), "%q is the ID of another key pair", kp.ID)
		}
		keyField := join(path, "encodedKey")
		if s.KeyFile != "" {
			keyField = join(path, "keyFile")
		}
		kp.Key = loadPublicKey(p, keyField, s.EncodedKey, resolve(dir, s.KeyFile), true)
		if kp.ID != "" && kp.Key != nil {
			k.KeyPairs[kp.ID] = kp
		}
	}
	return k
}

// isAPIShape reports whether v is an object in the API's PascalCase shape
// (it has one of the keys) rather than edgefront's short form.
func isAPIShape(v any, keys ...string) bool {
	o, ok := v.(*object)
	if !ok {
		return false
	}
	for _, k := range keys {
		if o.has(k) {
			return true
		}
	}
	return false
}

// checkKeyID checks a public key, key group or key pair ID: required,
// printable, no spaces.
func checkKeyID(p *problems, field, id string) {
	if id == "" {
		p.add(field, "is required")
		return
	}
	if len(id) > 128 {
		p.add(field, "%q is longer than 128 characters", id)
		return
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' {
			p.add(field, "%q is not an ID (letters, digits, '-' and '_')", id)
			return
		}
	}
}

// isAccount reports whether s is "self" or a 12-digit AWS account ID.
func isAccount(s string) bool {
	if s == "self" {
		return true
	}
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// loadPublicKey decodes a PEM public key given inline (encoded) or in file;
// exactly one of them must be set. rsaOnly is for legacy key pairs, which
// are RSA 2048 keys.
func loadPublicKey(p *problems, field, encoded, file string, rsaOnly bool) crypto.PublicKey {
	switch {
	case encoded != "" && file != "":
		p.add(field, "give encodedKey or keyFile, not both")
		return nil
	case encoded == "" && file == "":
		p.add(field, "is required (a PEM public key)")
		return nil
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			p.add(field, "%v", err)
			return nil
		}
		encoded = string(data)
	}
	key, reason := ParsePublicKey([]byte(encoded))
	if reason == "" && rsaOnly {
		if _, ok := key.(*rsa.PublicKey); !ok {
			reason = "a CloudFront key pair is an RSA 2048 key"
		}
	}
	if reason != "" {
		p.add(field, "%s", reason)
		return nil
	}
	return key
}

// ParsePublicKey decodes a PEM public key as CloudFront accepts it for
// signed URLs and cookies: RSA 2048 or ECDSA P-256, as "PUBLIC KEY" (PKIX,
// what `openssl rsa -pubout` writes) or "RSA PUBLIC KEY" (PKCS #1). On
// failure it returns a reason fit for an error message.
func ParsePublicKey(data []byte) (crypto.PublicKey, string) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(string(data))))
	if block == nil {
		return nil, "is not a PEM public key (-----BEGIN PUBLIC KEY-----)"
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		if strings.Contains(block.Type, "PRIVATE") {
			return nil, "is a private key: give the public key (openssl rsa -pubout)"
		}
		return nil, "is a PEM " + block.Type + ", not a public key"
	}
	if err != nil {
		return nil, "is not a valid public key: " + err.Error()
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() != 2048 {
			return nil, "CloudFront accepts RSA keys of 2048 bits only (this one has " + strconv.Itoa(k.N.BitLen()) + ")"
		}
		return k, ""
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, "CloudFront accepts ECDSA keys on P-256 only"
		}
		return k, ""
	}
	return nil, "CloudFront accepts RSA 2048 and ECDSA P-256 keys only"
}
