package control_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/edgefront/edgefront/control"
)

// recorder is an aws.HTTPClient that keeps a copy of the last request the
// SDK sent (headers and body, as they went on the wire) and then sends it.
type recorder struct {
	next *http.Client
	req  *http.Request
	body []byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.req, r.body = req.Clone(context.Background()), body
	return r.next.Do(req)
}

// sha256Hex is the hex SHA-256 of b, as SigV4 writes payload hashes.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// captured is a signed request as an eavesdropper saw it.
type captured struct {
	method, uri string
	header      http.Header
	host        string
	body        []byte
}

// send replays c with body instead of c.body through client (mutate, when
// set, changes the headers first) and returns the status and the response
// body.
func (c *captured) send(t *testing.T, client *http.Client, base string, body []byte, mutate func(http.Header)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.uri, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header.Clone()
	req.Header.Del("Content-Length")
	req.Host = c.host
	if mutate != nil {
		mutate(req.Header)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestSigV4ReplayWithOtherBody captures signed CreateInvalidation requests
// on the wire and replays each one's headers and signature with another
// body of the same length (another CallerReference and path): the
// signature covers the body, so every replay must be refused with
// SignatureDoesNotMatch (403), create nothing and ban nothing, however the
// payload hash header is arranged. A payload signed as UNSIGNED-PAYLOAD is
// refused too: the CloudFront API signs its bodies.
func TestSigV4ReplayWithOtherBody(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{Credentials: map[string]string{testKeyID: testSecret}})
	const evilPath = "/bbbb.txt"
	e.get(oneHost, evilPath)
	if x, _ := e.get(oneHost, evilPath); x != "Hit from cloudfront" {
		t.Fatalf("%s before the replays: %q", evilPath, x)
	}

	// The real SDK's request, as sent.
	rec := &recorder{next: e.api.Client()}
	cf := cloudfront.New(cloudfront.Options{
		BaseEndpoint: aws.String(e.api.URL), Region: "us-east-1", RetryMaxAttempts: 1, HTTPClient: rec,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	})
	if _, err := cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(one), InvalidationBatch: batch("orig-sdk", "/aaaa.txt"),
	}); err != nil {
		t.Fatalf("the SDK's own request: %v", err)
	}
	sdk := &captured{method: rec.req.Method, uri: rec.req.URL.RequestURI(), header: rec.req.Header, host: rec.req.Host, body: rec.body}
	created := 1

	// A client that signs X-Amz-Content-Sha256 as a header too (S3-style
	// signers do): its request is valid and accepted as it was sent.
	signed := signRaw(t, e.api.URL, batchXML("orig-hdr", "/aaaa.txt"), sha256Hex(batchXML("orig-hdr", "/aaaa.txt")))
	if st, body := signed.send(t, e.api.Client(), e.api.URL, signed.body, nil); st != http.StatusCreated {
		t.Fatalf("a request signing X-Amz-Content-Sha256 with the body's hash: %d %s", st, body)
	}
	created++

	// A client that signs UNSIGNED-PAYLOAD.
	unsigned := signRaw(t, e.api.URL, batchXML("orig-uns", "/aaaa.txt"), "UNSIGNED-PAYLOAD")
	if st, body := unsigned.send(t, e.api.Client(), e.api.URL, unsigned.body, nil); st != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("UNSIGNED-PAYLOAD with the body it was sent with: %d %s, want 403 SignatureDoesNotMatch", st, body)
	}

	tests := []struct {
		name   string
		orig   *captured
		mutate func(http.Header)
	}{
		{"SDK request as captured", sdk, nil},
		{"SDK request plus an unsigned X-Amz-Content-Sha256 of the signed body", sdk, func(h http.Header) {
			h.Set("X-Amz-Content-Sha256", sha256Hex(sdk.body))
		}},
		{"signed X-Amz-Content-Sha256 header kept", signed, nil},
		{"signed UNSIGNED-PAYLOAD", unsigned, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evil := bytes.Replace(bytes.Replace(tc.orig.body, []byte("/aaaa.txt"), []byte(evilPath), 1), []byte("orig-"), []byte("evil-"), 1)
			if len(evil) != len(tc.orig.body) || bytes.Equal(evil, tc.orig.body) {
				t.Fatalf("the other body must differ and have the same length: %q", evil)
			}
			st, body := tc.orig.send(t, e.api.Client(), e.api.URL, evil, tc.mutate)
			if st != http.StatusForbidden || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
				t.Errorf("replay with another body: %d %s, want 403 SignatureDoesNotMatch", st, body)
			}
			list, err := e.cf.ListInvalidations(ctx(t), &cloudfront.ListInvalidationsInput{DistributionId: aws.String(one)})
			if err != nil {
				t.Fatal(err)
			}
			if n := int(aws.ToInt32(list.InvalidationList.Quantity)); n != created {
				t.Errorf("%d invalidations after the replay, want %d", n, created)
			}
			if x, _ := e.get(oneHost, evilPath); x != "Hit from cloudfront" {
				t.Errorf("%s after the replay: %q, want a hit (nothing banned)", evilPath, x)
			}
		})
	}
}

// batchXML is an InvalidationBatch body naming path.
func batchXML(ref, path string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Paths><Quantity>1</Quantity><Items><Path>` + path +
		`</Path></Items></Paths><CallerReference>` + ref + `</CallerReference></InvalidationBatch>`)
}

// signRaw signs a CreateInvalidation of body on distribution one with the
// SDK's SigV4 signer, sending and signing X-Amz-Content-Sha256:
// payloadHash.
func signRaw(t *testing.T, base string, body []byte, payloadHash string) *captured {
	t.Helper()
	uri := "/2020-05-31/distribution/" + one + "/invalidation"
	req, err := http.NewRequest(http.MethodPost, base+uri, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, payloadHash, "cloudfront", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(req.Header.Get("Authorization"), "x-amz-content-sha256") {
		t.Fatalf("X-Amz-Content-Sha256 is not signed: %s", req.Header.Get("Authorization"))
	}
	return &captured{method: req.Method, uri: uri, header: req.Header, host: req.Host, body: body}
}
