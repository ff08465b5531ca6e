package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/signed"
)

// The throwaway test keys of package signed.
const signKeys = "../../signed/testdata/keys/"

// signedEdge is a real listener that answers 200 "ok" to a request the
// verifier accepts for a behaviour trusting key group "g" (keys KA, RSA, and
// KE, ECDSA), and the Denial's XML otherwise.
func signedEdge(t *testing.T) *httptest.Server {
	t.Helper()
	pub := func(name string) *config.PublicKey {
		data, err := os.ReadFile(signKeys + name + ".pub.pem")
		if err != nil {
			t.Fatal(err)
		}
		k, reason := config.ParsePublicKey(data)
		if reason != "" {
			t.Fatal(reason)
		}
		return &config.PublicKey{ID: name, Key: k}
	}
	ka, ke := pub("rsa-a"), pub("ec-a")
	ka.ID, ke.ID = "KA", "KE"
	v := &signed.Verifier{Keys: &config.Keys{
		KeyGroups: map[string]*config.KeyGroup{"g": {ID: "g", Keys: map[string]*config.PublicKey{"KA": ka, "KE": ke}}},
	}}
	b := &config.Behavior{TrustedKeyGroups: []string{"g"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if d := v.Check(r, b, ip, time.Now()); d != nil {
			w.WriteHeader(d.Status)
			_, _ = w.Write(d.Body())
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, rawURL, cookie string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestSignURL(t *testing.T) {
	srv := signedEdge(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policy, []byte(`{"Statement":[{"Resource":"`+srv.URL+`/videos/*",
		"Condition":{"DateLessThan":{"AWS:EpochTime":4102444800},"IpAddress":{"AWS:SourceIp":"127.0.0.0/8"}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	rsaKey, ecKey := signKeys+"rsa-a.pem", signKeys+"ec-a.pem"
	tests := []struct {
		name   string
		args   []string
		params []string
		status int
	}{
		{"canned", []string{"--url", srv.URL + "/a.jpg?color=red", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "1h"},
			[]string{"color=red&Expires=", "&Signature=", "&Key-Pair-Id=KA"}, 200},
		{"canned, RFC 3339 time", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "2099-01-01T00:00:00Z"},
			[]string{"Expires=4070908800"}, 200},
		{"custom: --ip and --starts", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "+1h", "--starts", "-1h", "--ip", "127.0.0.1/32"},
			[]string{"Policy=", "&Signature=", "&Key-Pair-Id=KA"}, 200},
		{"custom: wildcard --resource", []string{"--url", srv.URL + "/dir/a.jpg", "--key-pair-id", "KE", "--private-key", ecKey, "--expires", "1h", "--resource", srv.URL + "/dir/*"},
			[]string{"Policy="}, 200},
		{"--policy FILE", []string{"--url", srv.URL + "/videos/intro.mp4", "--key-pair-id", "KA", "--private-key", rsaKey, "--policy", policy},
			[]string{"Policy="}, 200},
		{"expired", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "-1m"},
			nil, 403},
		{"other IP", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "1h", "--ip", "192.0.2.0/24"},
			nil, 403},
		{"signed by a key the edge does not trust", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KB", "--private-key", signKeys + "rsa-b.pem", "--expires", "1h"},
			nil, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := signURL(tc.args, &stdout, &stderr); err != nil {
				t.Fatalf("sign-url: %v (stderr %q)", err, stderr.String())
			}
			out := strings.TrimSpace(stdout.String())
			for _, p := range tc.params {
				if !strings.Contains(out, p) {
					t.Errorf("signed URL %q lacks %q", out, p)
				}
			}
			if status, body := fetch(t, out, ""); status != tc.status {
				t.Errorf("GET %s: %d %s, want %d", out, status, body, tc.status)
			}
		})
	}
}

func TestSignCookies(t *testing.T) {
	srv := signedEdge(t)
	rsaKey := signKeys + "rsa-a.pem"
	tests := []struct {
		name    string
		args    []string
		fetch   string
		first   string // the first Set-Cookie's cookie name
		status  int
		headers []string // pieces every Set-Cookie line has
	}{
		{"canned", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "1h"},
			"/a.jpg", signed.CookieExpires, 200, []string{"; Path=/", "; HttpOnly"}},
		{"canned cookies only fit their URL", []string{"--url", srv.URL + "/a.jpg", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "1h"},
			"/b.jpg", signed.CookieExpires, 403, nil},
		{"wildcard: custom policy", []string{"--url", srv.URL + "/private/*", "--key-pair-id", "KE", "--private-key", signKeys + "ec-a.pem", "--expires", "1h", "--path", "/private/"},
			"/private/x/y.png", signed.CookiePolicy, 200, []string{"; Path=/private/"}},
		{"domain and IP", []string{"--url", srv.URL + "/*", "--key-pair-id", "KA", "--private-key", rsaKey, "--expires", "1h", "--ip", "127.0.0.1", "--domain", "example.com"},
			"/z", signed.CookiePolicy, 200, []string{"; Domain=example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := signCookies(tc.args, &stdout, &stderr); err != nil {
				t.Fatalf("sign-cookies: %v (stderr %q)", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if len(lines) != 4 {
				t.Fatalf("output has %d lines, want 3 Set-Cookie and 1 Cookie:\n%s", len(lines), stdout.String())
			}
			names := []string{tc.first, signed.CookieSignature, signed.CookieKeyPairID}
			for i, n := range names {
				if !strings.HasPrefix(lines[i], "Set-Cookie: "+n+"=") {
					t.Errorf("line %d = %q, want Set-Cookie: %s=…", i, lines[i], n)
				}
				for _, h := range tc.headers {
					if !strings.Contains(lines[i], h) {
						t.Errorf("line %d = %q lacks %q", i, lines[i], h)
					}
				}
			}
			cookie, ok := strings.CutPrefix(lines[3], "Cookie: ")
			if !ok {
				t.Fatalf("last line %q is not a Cookie header", lines[3])
			}
			if status, body := fetch(t, srv.URL+tc.fetch, cookie); status != tc.status {
				t.Errorf("GET %s with the cookies: %d %s, want %d", tc.fetch, status, body, tc.status)
			}
		})
	}
}

func TestSignFlagErrors(t *testing.T) {
	dir := t.TempDir()
	notKey := filepath.Join(dir, "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	badPolicy := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(badPolicy, []byte(`{"Statement":[{"Resource":"*","Condition":{}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := signKeys + "rsa-a.pem"
	base := []string{"--key-pair-id", "KA", "--private-key", key}
	tests := []struct {
		name    string
		cookies bool
		args    []string
		usage   bool   // a usage error (exit 2) rather than a bad value (exit 1)
		want    string // in stderr for a usage error, in the error otherwise
	}{
		{"nothing", false, nil, true, "--url, --key-pair-id, --private-key, --expires or --policy are required"},
		{"no --url", false, append([]string{"--expires", "1h"}, base...), true, "--url is required"},
		{"no --private-key", true, []string{"--url", "http://127.0.0.1/a", "--key-pair-id", "KA", "--expires", "1h"}, true, "--private-key is required"},
		{"no expiry", false, append([]string{"--url", "http://127.0.0.1/a"}, base...), true, "--expires or --policy is required"},
		{"--expires and --policy", false, append([]string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--policy", badPolicy}, base...), true, "give --expires or --policy, not both"},
		{"--policy with --ip", true, append([]string{"--url", "http://127.0.0.1/a", "--policy", badPolicy, "--ip", "127.0.0.1"}, base...), true, "drop --starts, --ip and --resource"},
		{"unknown flag", false, []string{"--expire", "1h"}, true, "flag provided but not defined: -expire"},
		{"stray argument", false, []string{"http://127.0.0.1/a"}, true, `unexpected argument "http://127.0.0.1/a"`},
		{"bad time", false, append([]string{"--url", "http://127.0.0.1/a", "--expires", "tomorrow"}, base...), false, `--expires: "tomorrow" is not a time`},
		{"bad --starts", false, append([]string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--starts", "soon"}, base...), false, `--starts: "soon" is not a time`},
		{"--starts after --expires", false, append([]string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--starts", "2h"}, base...), false, "must be before --expires"},
		{"bad CIDR", false, append([]string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--ip", "192.0.2.0/40"}, base...), false, `--ip: "192.0.2.0/40" is not a CIDR block`},
		{"relative URL", false, append([]string{"--url", "/a.jpg", "--expires", "1h"}, base...), false, `--url: "/a.jpg" is not an absolute http:// or https:// URL`},
		{"ftp URL", false, append([]string{"--url", "ftp://127.0.0.1/a", "--expires", "1h"}, base...), false, "is not an absolute http:// or https:// URL"},
		{"already signed", false, append([]string{"--url", "http://127.0.0.1/a?Expires=1", "--expires", "1h"}, base...), false, "already has signed URL parameters"},
		{"fragment", false, append([]string{"--url", "http://127.0.0.1/a#top", "--expires", "1h"}, base...), false, "has a fragment"},
		{"missing key file", false, []string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--key-pair-id", "KA", "--private-key", filepath.Join(dir, "nope.pem")}, false, "--private-key: open "},
		{"not a key", false, []string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--key-pair-id", "KA", "--private-key", notKey}, false, "holds no PEM private key"},
		{"public key given", false, []string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--key-pair-id", "KA", "--private-key", signKeys + "rsa-a.pub.pem"}, false, "holds a PEM PUBLIC KEY, not a private key"},
		{"policy without DateLessThan", false, append([]string{"--url", "http://127.0.0.1/a", "--policy", badPolicy}, base...), false, "DateLessThan is required"},
		{"bad key pair ID", false, append([]string{"--url", "http://127.0.0.1/a", "--expires", "1h", "--key-pair-id", "K A"}, base[2:]...), false, `--key-pair-id: "K A" is not a key ID`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := signURL
			if tc.cookies {
				cmd = signCookies
			}
			err := cmd(tc.args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("no error; stdout %q", stdout.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if tc.usage {
				if !errors.Is(err, errUsage) {
					t.Fatalf("error %v, want a usage error", err)
				}
				// One line and a hint, not the whole usage.
				if !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "--help' for usage.") || strings.Contains(stderr.String(), "Usage: edgefront sign-") {
					t.Errorf("stderr = %q, want %q and a hint to run --help", stderr.String(), tc.want)
				}
				return
			}
			if errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
