package control_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	kvstypes "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"

	"github.com/edgefront/edgefront/control"
)

// kvsRecorder keeps the last request a client sent (its body read ahead).
type kvsRecorder struct {
	mu   sync.Mutex
	req  *http.Request
	body []byte
}

func (rec *kvsRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rec.mu.Lock()
	rec.req, rec.body = r.Clone(context.Background()), body
	rec.mu.Unlock()
	return loopback(r.URL.Host).RoundTrip(r)
}

// loopback is a transport that reaches the API whatever host a request
// names: the cloudfront-keyvaluestore client puts the store's account in
// front of the endpoint's host (123456789012.127.0.0.1:PORT).
func loopback(apiHost string) *http.Transport {
	_, port, _ := net.SplitHostPort(apiHost)
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, "127.0.0.1:"+port)
	}}
}

// newKVSClient is the real cloudfront-keyvaluestore client pointed at the
// API, through rec.
func newKVSClient(url, keyID, secret string, rec *kvsRecorder) *kvs.Client {
	return kvs.New(kvs.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: rec},
	})
}

// TestKeyValueStoresAPI drives the CloudFront API's KeyValueStore
// operations and the cloudfront-keyvaluestore data plane with the real
// clients: ETags and If-Match on both, READY at once, the S3 import
// refused, a store in use by a function not deletable.
func TestKeyValueStoresAPI(t *testing.T) {
	for _, mode := range credentialModes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t, "edge.yaml", mode.opts)
			c := ctx(t)
			created, err := e.cf.CreateKeyValueStore(c, &cloudfront.CreateKeyValueStoreInput{Name: aws.String("themes"), Comment: aws.String("colours")})
			if err != nil {
				t.Fatalf("CreateKeyValueStore: %v", err)
			}
			st := created.KeyValueStore
			arn := aws.ToString(st.ARN)
			if aws.ToString(st.Status) != "READY" || !strings.HasPrefix(arn, "arn:aws:cloudfront::123456789012:key-value-store/") || aws.ToString(created.ETag) == "" {
				t.Fatalf("CreateKeyValueStore: %+v", st)
			}
			for _, tc := range []struct {
				name   string
				call   func() error
				code   string
				status int
			}{
				{"create twice", func() error {
					_, err := e.cf.CreateKeyValueStore(c, &cloudfront.CreateKeyValueStoreInput{Name: aws.String("themes")})
					return err
				}, "EntityAlreadyExists", 409},
				{"S3 import", func() error {
					_, err := e.cf.CreateKeyValueStore(c, &cloudfront.CreateKeyValueStoreInput{Name: aws.String("imported"),
						ImportSource: &types.ImportSource{SourceType: types.ImportSourceTypeS3, SourceARN: aws.String("arn:aws:s3:::bucket/data.json")}})
					return err
				}, "UnsupportedOperation", 400},
				{"describe a missing store", func() error {
					_, err := e.cf.DescribeKeyValueStore(c, &cloudfront.DescribeKeyValueStoreInput{Name: aws.String("nope")})
					return err
				}, "EntityNotFound", 404},
				{"update with a stale If-Match", func() error {
					_, err := e.cf.UpdateKeyValueStore(c, &cloudfront.UpdateKeyValueStoreInput{Name: aws.String("themes"), IfMatch: aws.String("ESTALE"), Comment: aws.String("x")})
					return err
				}, "PreconditionFailed", 412},
			} {
				if code, status := apiCode(t, tc.call()); code != tc.code || status != tc.status {
					t.Errorf("%s: %s %d, want %s %d", tc.name, code, status, tc.code, tc.status)
				}
			}
			desc, err := e.cf.DescribeKeyValueStore(c, &cloudfront.DescribeKeyValueStoreInput{Name: aws.String("themes")})
			if err != nil || aws.ToString(desc.ETag) != aws.ToString(created.ETag) || aws.ToString(desc.KeyValueStore.Comment) != "colours" {
				t.Fatalf("DescribeKeyValueStore: %v %+v", err, desc)
			}
			upd, err := e.cf.UpdateKeyValueStore(c, &cloudfront.UpdateKeyValueStoreInput{Name: aws.String("themes"), IfMatch: desc.ETag, Comment: aws.String("colours, v2")})
			if err != nil || aws.ToString(upd.ETag) == aws.ToString(desc.ETag) || aws.ToString(upd.KeyValueStore.Comment) != "colours, v2" {
				t.Fatalf("UpdateKeyValueStore: %v %+v", err, upd)
			}
			list, err := e.cf.ListKeyValueStores(c, &cloudfront.ListKeyValueStoresInput{})
			if err != nil || aws.ToInt32(list.KeyValueStoreList.Quantity) != 1 || aws.ToString(list.KeyValueStoreList.Items[0].Name) != "themes" {
				t.Fatalf("ListKeyValueStores: %v %+v", err, list)
			}

			// The data plane, with the real SigV4A-signing client.
			rec := &kvsRecorder{}
			kc := newKVSClient(e.api.URL, testKeyID, testSecret, rec)
			kd, err := kc.DescribeKeyValueStore(c, &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(arn)})
			if err != nil || aws.ToInt32(kd.ItemCount) != 0 || aws.ToString(kd.Status) != "READY" || aws.ToString(kd.ETag) == "" || aws.ToString(kd.KvsARN) != arn {
				t.Fatalf("kvs DescribeKeyValueStore: %v %+v", err, kd)
			}
			if !strings.HasPrefix(rec.req.Header.Get("Authorization"), "AWS4-ECDSA-P256-SHA256 ") {
				t.Fatalf("the client did not sign with SigV4A: %q", rec.req.Header.Get("Authorization"))
			}
			put, err := kc.PutKey(c, &kvs.PutKeyInput{KvsARN: aws.String(arn), Key: aws.String("colour/bg"), Value: aws.String("blue"), IfMatch: kd.ETag})
			if err != nil || aws.ToInt32(put.ItemCount) != 1 || aws.ToString(put.ETag) == aws.ToString(kd.ETag) || aws.ToInt64(put.TotalSizeInBytes) != int64(len("colour/bg")+len("blue")) {
				t.Fatalf("PutKey: %v %+v", err, put)
			}
			_, err = kc.PutKey(c, &kvs.PutKeyInput{KvsARN: aws.String(arn), Key: aws.String("k"), Value: aws.String("v"), IfMatch: kd.ETag})
			var conflict *kvstypes.ConflictException
			if !asErr(err, &conflict) {
				t.Errorf("PutKey with a stale IfMatch: %v, want ConflictException", err)
			}
			got, err := kc.GetKey(c, &kvs.GetKeyInput{KvsARN: aws.String(arn), Key: aws.String("colour/bg")})
			if err != nil || aws.ToString(got.Value) != "blue" || aws.ToString(got.Key) != "colour/bg" {
				t.Fatalf("GetKey: %v %+v", err, got)
			}
			upk, err := kc.UpdateKeys(c, &kvs.UpdateKeysInput{KvsARN: aws.String(arn), IfMatch: put.ETag,
				Puts:    []kvstypes.PutKeyRequestListItem{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("c"), Value: aws.String("3")}},
				Deletes: []kvstypes.DeleteKeyRequestListItem{{Key: aws.String("colour/bg")}}})
			if err != nil || aws.ToInt32(upk.ItemCount) != 3 {
				t.Fatalf("UpdateKeys: %v %+v", err, upk)
			}
			var keys []string
			p := kvs.NewListKeysPaginator(kc, &kvs.ListKeysInput{KvsARN: aws.String(arn), MaxResults: aws.Int32(2)})
			for p.HasMorePages() {
				page, err := p.NextPage(c)
				if err != nil {
					t.Fatalf("ListKeys: %v", err)
				}
				for _, it := range page.Items {
					keys = append(keys, aws.ToString(it.Key)+"="+aws.ToString(it.Value))
				}
			}
			if strings.Join(keys, ",") != "a=1,b=2,c=3" {
				t.Errorf("ListKeys: %v", keys)
			}
			del, err := kc.DeleteKey(c, &kvs.DeleteKeyInput{KvsARN: aws.String(arn), Key: aws.String("a"), IfMatch: upk.ETag})
			if err != nil || aws.ToInt32(del.ItemCount) != 2 {
				t.Fatalf("DeleteKey: %v %+v", err, del)
			}
			_, err = kc.GetKey(c, &kvs.GetKeyInput{KvsARN: aws.String(arn), Key: aws.String("a")})
			var notFound *kvstypes.ResourceNotFoundException
			if !asErr(err, &notFound) {
				t.Errorf("GetKey of a deleted key: %v", err)
			}
			_, err = kc.PutKey(c, &kvs.PutKeyInput{KvsARN: aws.String(arn), Key: aws.String("big"), Value: aws.String(strings.Repeat("v", 1025)), IfMatch: del.ETag})
			var invalid *kvstypes.ValidationException
			if !asErr(err, &invalid) {
				t.Errorf("PutKey of a value over 1 KB: %v", err)
			}

			// A function associated with the store keeps it.
			fc := &types.FunctionConfig{Comment: aws.String(""), Runtime: types.FunctionRuntimeCloudfrontJs20,
				KeyValueStoreAssociations: &types.KeyValueStoreAssociations{Quantity: aws.Int32(1), Items: []types.KeyValueStoreAssociation{{KeyValueStoreARN: aws.String(arn)}}}}
			code := "import cf from 'cloudfront';\nasync function handler(event) { const v = await cf.kvs().get('b'); return {statusCode: 200, body: v}; }\n"
			fn, err := e.cf.CreateFunction(c, &cloudfront.CreateFunctionInput{Name: aws.String("reader"), FunctionConfig: fc, FunctionCode: []byte(code)})
			if err != nil || aws.ToInt32(fn.FunctionSummary.FunctionConfig.KeyValueStoreAssociations.Quantity) != 1 {
				t.Fatalf("CreateFunction with a store: %v", err)
			}
			cur, _ := e.cf.DescribeKeyValueStore(c, &cloudfront.DescribeKeyValueStoreInput{Name: aws.String("themes")})
			_, err = e.cf.DeleteKeyValueStore(c, &cloudfront.DeleteKeyValueStoreInput{Name: aws.String("themes"), IfMatch: cur.ETag})
			if code, status := apiCode(t, err); code != "CannotDeleteEntityWhileInUse" || status != 409 {
				t.Errorf("DeleteKeyValueStore in use: %s %d", code, status)
			}
			if _, err := e.cf.DeleteFunction(c, &cloudfront.DeleteFunctionInput{Name: aws.String("reader"), IfMatch: fn.ETag}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.cf.DeleteKeyValueStore(c, &cloudfront.DeleteKeyValueStoreInput{Name: aws.String("themes"), IfMatch: cur.ETag}); err != nil {
				t.Fatalf("DeleteKeyValueStore: %v", err)
			}
		})
	}
}

// TestKeyValueStoreSigV4A: with credentials, a data-plane request signed
// with another secret, and a signed request replayed with another body,
// are refused (403 AccessDeniedException); the untouched replay of a read
// is accepted.
func TestKeyValueStoreSigV4A(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{Credentials: map[string]string{testKeyID: testSecret}})
	c := ctx(t)
	st, err := e.cf.CreateKeyValueStore(c, &cloudfront.CreateKeyValueStoreInput{Name: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	arn := st.KeyValueStore.ARN

	_, err = newKVSClient(e.api.URL, testKeyID, "wrong-secret", &kvsRecorder{}).DescribeKeyValueStore(c, &kvs.DescribeKeyValueStoreInput{KvsARN: arn})
	var denied *kvstypes.AccessDeniedException
	if !asErr(err, &denied) {
		t.Errorf("a wrong secret: %v, want AccessDeniedException", err)
	}
	_, err = newKVSClient(e.api.URL, "AKIDUNKNOWN", testSecret, &kvsRecorder{}).DescribeKeyValueStore(c, &kvs.DescribeKeyValueStoreInput{KvsARN: arn})
	if !asErr(err, &denied) {
		t.Errorf("an unknown key: %v, want AccessDeniedException", err)
	}

	rec := &kvsRecorder{}
	kc := newKVSClient(e.api.URL, testKeyID, testSecret, rec)
	d, err := kc.DescribeKeyValueStore(c, &kvs.DescribeKeyValueStoreInput{KvsARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.PutKey(c, &kvs.PutKeyInput{KvsARN: arn, Key: aws.String("k"), Value: aws.String("mine"), IfMatch: d.ETag}); err != nil {
		t.Fatal(err)
	}
	replay := func(body []byte) int {
		t.Helper()
		r := rec.req.Clone(c)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp, err := loopback(r.URL.Host).RoundTrip(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	changed := bytes.Replace(rec.body, []byte("mine"), []byte("evil"), 1)
	if status := replay(changed); status != http.StatusForbidden {
		t.Errorf("replayed PutKey with a changed body: %d, want 403", status)
	}
	// The same body replayed passes the signature, and then meets the
	// stale ETag (409), as on AWS.
	if status := replay(rec.body); status != http.StatusConflict {
		t.Errorf("replayed PutKey unchanged: %d, want 409 (stale If-Match)", status)
	}
	got, _ := kc.GetKey(c, &kvs.GetKeyInput{KvsARN: arn, Key: aws.String("k")})
	if aws.ToString(got.Value) != "mine" {
		t.Errorf("after the replays, k = %q", aws.ToString(got.Value))
	}
}

// asErr is errors.As for the SDK's typed errors.
func asErr[T error](err error, target *T) bool { return err != nil && errors.As(err, target) }
