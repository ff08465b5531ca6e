package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/edgefront/edgefront/signed"
)

// This file is `edgefront sign-url` and `edgefront sign-cookies`: signed URLs
// and signed cookies made with the AWS SDK's CloudFront signer, for a
// behaviour with TrustedKeyGroups (or TrustedSigners).

const signURLHelp = `Usage: edgefront sign-url --url URL --key-pair-id ID --private-key FILE
                          (--expires TIME | --policy FILE) [--starts TIME] [--ip CIDR] [--resource PATTERN]

Prints URL signed as CloudFront expects it. With only --expires the URL gets a
canned policy (Expires, Signature, Key-Pair-Id); with --starts, --ip, a
--resource other than the URL, or a '*' in it, a custom policy (Policy,
Signature, Key-Pair-Id). --policy FILE signs the policy statement in FILE.

TIME is RFC 3339 (2030-01-01T00:00:00Z), Unix seconds (1893456000), or a
duration from now (90m, 24h, -1h).

Flags:
`

const signCookiesHelp = `Usage: edgefront sign-cookies --url URL --key-pair-id ID --private-key FILE
                              (--expires TIME | --policy FILE) [--starts TIME] [--ip CIDR]
                              [--domain NAME] [--path PATH]

Prints the three Set-Cookie headers of CloudFront signed cookies for URL (which
may hold '*' wildcards, e.g. https://example.com/private/*), then the Cookie
header a client sends back. With only --expires and no wildcard the cookies use
a canned policy (CloudFront-Expires); otherwise a custom policy
(CloudFront-Policy). TIME is as for sign-url.

Flags:
`

// signFlags are the flags sign-url and sign-cookies share.
type signFlags struct {
	url, keyPairID, privateKey string
	expires, starts, ip        string
	policy, resource           string
	domain, path               string
}

func (f *signFlags) register(fs *flag.FlagSet, cookies bool) {
	fs.StringVar(&f.url, "url", "", "the `URL` to sign: http:// or https://, host, path, query (required)")
	fs.StringVar(&f.keyPairID, "key-pair-id", "", "the public key `ID` (K…) in a trusted key group, or a legacy key pair ID (required)")
	fs.StringVar(&f.privateKey, "private-key", "", "PEM private key `FILE`: RSA 2048 (PKCS #1 or #8) or ECDSA P-256 (required)")
	fs.StringVar(&f.expires, "expires", "", "when the signature expires (DateLessThan), a `TIME`")
	fs.StringVar(&f.starts, "starts", "", "when the signature becomes valid (DateGreaterThan), a `TIME`")
	fs.StringVar(&f.ip, "ip", "", "the viewer address range allowed (IpAddress), a `CIDR` like 192.0.2.0/24")
	fs.StringVar(&f.policy, "policy", "", "a policy statement JSON `FILE` to sign, instead of --expires/--starts/--ip")
	if cookies {
		fs.StringVar(&f.domain, "domain", "", "the cookies' Domain `NAME`")
		fs.StringVar(&f.path, "path", "/", "the cookies' `PATH`")
	} else {
		fs.StringVar(&f.resource, "resource", "", "the policy's Resource `PATTERN` when it is not the URL itself ('*' and '?' wildcards)")
	}
}

// signRequest is what the flags ask to sign.
type signRequest struct {
	signer crypto.Signer
	policy *sign.Policy
	canned bool // a canned policy: the Expires form
}

// parse checks the flags and loads the key. A missing flag is a usage
// error (printed, errUsage); a bad value is an error naming the flag.
func (f *signFlags) parse(cmd string, fs *flag.FlagSet, stderr io.Writer, now time.Time, cookies bool) (*signRequest, error) {
	var missing []string
	for _, m := range []struct{ name, v string }{{"url", f.url}, {"key-pair-id", f.keyPairID}, {"private-key", f.privateKey}} {
		if m.v == "" {
			missing = append(missing, "--"+m.name)
		}
	}
	switch {
	case f.expires == "" && f.policy == "":
		missing = append(missing, "--expires or --policy")
	case f.expires != "" && f.policy != "":
		fmt.Fprintf(stderr, "edgefront %s: give --expires or --policy, not both\n", cmd)
		fs.Usage()
		return nil, errUsage
	case f.policy != "" && (f.starts != "" || f.ip != "" || f.resource != ""):
		fmt.Fprintf(stderr, "edgefront %s: --policy FILE already holds the conditions: drop --starts, --ip and --resource\n", cmd)
		fs.Usage()
		return nil, errUsage
	}
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		fmt.Fprintf(stderr, "edgefront %s: %s %s required\n", cmd, strings.Join(missing, ", "), verb)
		fs.Usage()
		return nil, errUsage
	}
	if err := checkSignURL(f.url, cookies); err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	if strings.TrimSpace(f.keyPairID) != f.keyPairID || strings.ContainsAny(f.keyPairID, ";,&= ") {
		return nil, fmt.Errorf("--key-pair-id: %q is not a key ID", f.keyPairID)
	}
	signer, err := loadPrivateKey(f.privateKey)
	if err != nil {
		return nil, fmt.Errorf("--private-key: %w", err)
	}
	req := &signRequest{signer: signer}
	if f.policy != "" {
		req.policy, err = policyFile(f.policy)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		return req, nil
	}
	expires, err := parseSignTime(f.expires, now)
	if err != nil {
		return nil, fmt.Errorf("--expires: %w", err)
	}
	resource := f.url
	if f.resource != "" {
		resource = f.resource
	}
	req.policy = sign.NewCannedPolicy(resource, expires)
	cond := &req.policy.Statements[0].Condition
	if f.starts != "" {
		starts, err := parseSignTime(f.starts, now)
		if err != nil {
			return nil, fmt.Errorf("--starts: %w", err)
		}
		if !starts.Before(expires) {
			return nil, fmt.Errorf("--starts (%s) must be before --expires (%s)", starts.UTC().Format(time.RFC3339), expires.UTC().Format(time.RFC3339))
		}
		cond.DateGreaterThan = sign.NewAWSEpochTime(starts)
	}
	if f.ip != "" {
		p, err := signed.ParseSourceIP(f.ip)
		if err != nil {
			return nil, fmt.Errorf("--ip: %w", err)
		}
		cond.IPAddress = &sign.IPAddress{SourceIP: p.String()}
	}
	req.canned = f.starts == "" && f.ip == "" && resource == f.url && !strings.Contains(resource, "*")
	return req, nil
}

// checkSignURL checks the URL to sign: absolute http(s), a host, no
// fragment, none of the signed URL's own parameters.
func checkSignURL(raw string, cookies bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	scheme := strings.TrimSuffix(u.Scheme, "*") // http*:// is a policy wildcard
	if scheme != "http" && scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http:// or https:// URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q has a fragment, which a viewer never sends", raw)
	}
	if u.Scheme != scheme && !cookies {
		return fmt.Errorf("%q: a URL to fetch cannot have a wildcard scheme (use --resource)", raw)
	}
	if q := u.RawQuery; q != "" && signed.StripQuery(q) != q {
		return fmt.Errorf("%q already has signed URL parameters (Expires, Policy, Signature, Key-Pair-Id, Hash-Algorithm)", raw)
	}
	return nil
}

// parseSignTime reads RFC 3339, Unix seconds, or a duration from now.
func parseSignTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0), nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return now.Add(d).Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2030-01-01T00:00:00Z), Unix seconds, or a duration from now (90m, 24h)", s)
}

// loadPrivateKey reads a PEM private key: "RSA PRIVATE KEY" (PKCS #1),
// "PRIVATE KEY" (PKCS #8, RSA or ECDSA) or "EC PRIVATE KEY".
func loadPrivateKey(file string) (crypto.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM private key", file)
	}
	var signer crypto.Signer
	switch block.Type {
	case "RSA PRIVATE KEY":
		signer, err = sign.LoadPEMPrivKey(strings.NewReader(string(data)))
	case "PRIVATE KEY":
		signer, err = sign.LoadPEMPrivKeyPKCS8AsSigner(strings.NewReader(string(data)))
	case "EC PRIVATE KEY":
		signer, err = x509.ParseECPrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%s is encrypted: decrypt it first (openssl pkey -in %s -out key.pem)", file, file)
	default:
		return nil, fmt.Errorf("%s holds a PEM %s, not a private key", file, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() != 2048 {
			return nil, fmt.Errorf("%s: CloudFront accepts RSA keys of 2048 bits only (this one has %d)", file, k.N.BitLen())
		}
	case *ecdsa.PrivateKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, fmt.Errorf("%s: CloudFront accepts ECDSA keys on P-256 only", file)
		}
	default:
		return nil, fmt.Errorf("%s: CloudFront accepts RSA 2048 and ECDSA P-256 keys only (not %T)", file, signer)
	}
	return signer, nil
}

// policyFile reads a policy statement, checks it as CloudFront would, and
// returns it in the SDK's form.
func policyFile(file string) (*sign.Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p, err := signed.ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if p.Resource == "" {
		// CloudFront allows it (every object), the SDK's signer does not.
		return nil, fmt.Errorf("%s: give the statement a Resource (\"*\" for every object)", file)
	}
	sp := sign.NewCannedPolicy(p.Resource, time.Unix(p.DateLessThan, 0))
	if p.DateGreaterThan != 0 {
		sp.Statements[0].Condition.DateGreaterThan = sign.NewAWSEpochTime(time.Unix(p.DateGreaterThan, 0))
	}
	if p.SourceIP.IsValid() {
		sp.Statements[0].Condition.IPAddress = &sign.IPAddress{SourceIP: p.SourceIP.String()}
	}
	return sp, nil
}

// signURL is `edgefront sign-url`.
func signURL(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sign-url", signURLHelp, stdout, stderr)
	var f signFlags
	f.register(fs.FlagSet, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req, err := f.parse("sign-url", fs.FlagSet, stderr, time.Now(), false)
	if err != nil {
		return err
	}
	s := sign.NewURLSigner(f.keyPairID, req.signer)
	var out string
	if req.canned {
		out, err = s.Sign(f.url, req.policy.Statements[0].Condition.DateLessThan.Time)
	} else {
		out, err = s.SignWithPolicy(f.url, req.policy)
	}
	if err != nil {
		return fmt.Errorf("sign-url: %w", err)
	}
	fmt.Fprintln(stdout, out)
	return nil
}

// signCookies is `edgefront sign-cookies`.
func signCookies(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sign-cookies", signCookiesHelp, stdout, stderr)
	var f signFlags
	f.register(fs.FlagSet, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req, err := f.parse("sign-cookies", fs.FlagSet, stderr, time.Now(), true)
	if err != nil {
		return err
	}
	sig, b64Policy, err := req.policy.Sign(req.signer)
	if err != nil {
		return fmt.Errorf("sign-cookies: %w", err)
	}
	first := &http.Cookie{Name: signed.CookiePolicy, Value: string(b64Policy)}
	if req.canned {
		first = &http.Cookie{Name: signed.CookieExpires, Value: strconv.FormatInt(req.policy.Statements[0].Condition.DateLessThan.Unix(), 10)}
	}
	cookies := []*http.Cookie{
		first,
		{Name: signed.CookieSignature, Value: string(sig)},
		{Name: signed.CookieKeyPairID, Value: f.keyPairID},
	}
	secure := strings.HasPrefix(f.url, "https")
	var pairs []string
	for _, c := range cookies {
		c.Domain, c.Path, c.Secure, c.HttpOnly = f.domain, f.path, secure, true
		line := c.String()
		if line == "" {
			return errors.New("sign-cookies: could not render the cookies (check --domain and --path)")
		}
		fmt.Fprintln(stdout, "Set-Cookie:", line)
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	fmt.Fprintln(stdout, "Cookie:", strings.Join(pairs, "; "))
	return nil
}
