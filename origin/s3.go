package origin

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
)

// s3Fetcher fetches objects from an S3 REST origin through the AWS SDK: GET
// is GetObject, HEAD is HeadObject, and the answer is rebuilt as the HTTP
// response S3 sends, errors included (S3's XML error documents), so the
// proxy sees what CloudFront would see.
//
// OPTIONS, PUT, POST, PATCH and DELETE go to the bucket as they came, signed
// with the origin's credentials (SigV4, as CloudFront signs them with origin
// access control): "CloudFront accepts the following requests from viewers
// and forwards them to your Amazon S3 origin: DELETE, GET, HEAD, OPTIONS,
// PATCH, POST, PUT" (Developer Guide, RequestAndResponseBehaviorS3Origin,
// "HTTP methods"). S3's answer, whatever it is, goes back to the viewer;
// the behaviour's AllowedMethods decides whether such a request gets here.
type s3Fetcher struct {
	id          string
	endpoint    string // where answers come from, for Response.Endpoint
	bucket      string
	prefix      string // OriginPath without its leading '/'
	client      *s3.Client
	transport   *http.Transport
	readTimeout time.Duration
	completion  time.Duration // ResponseCompletionTimeout; 0: none
	region      string
	creds       aws.CredentialsProvider
	objectBase  string // URL before the object key: https://bucket.s3.region.amazonaws.com or endpoint/bucket
}

func newS3(o *config.Origin, op options) (*s3Fetcher, error) {
	if o.S3.Bucket == "" {
		return nil, fmt.Errorf("origin %q: no bucket", o.ID)
	}
	region := o.S3.Region
	if region == "" && o.Credentials != nil {
		region = o.Credentials.Region
	}
	if region == "" {
		region = "us-east-1"
	}
	creds, err := s3Credentials(o.Credentials)
	if err != nil {
		return nil, fmt.Errorf("origin %q: credentials: %w", o.ID, err)
	}
	s := settingsOf(o)
	tr := newTransport(s, &tls.Config{RootCAs: op.rootCAs})
	hc := &http.Client{
		Transport: tr,
		// An S3 redirect (wrong region) is an answer, as it is to CloudFront.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	opts := s3.Options{
		Region:      region,
		HTTPClient:  hc,
		Credentials: creds,
		Retryer:     connectionRetryer(s.attempts),
		// Plain GET/HEAD: no checksum work beyond what S3 requires.
		RequestChecksumCalculation:  aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation:  aws.ResponseChecksumValidationWhenRequired,
		DisableS3ExpressSessionAuth: aws.Bool(true),
	}
	if len(o.Endpoints) > 0 {
		if _, err := parseEndpoint(o.Endpoints[0]); err != nil {
			return nil, fmt.Errorf("origin %q: %w", o.ID, err)
		}
		opts.BaseEndpoint = aws.String(strings.TrimSuffix(o.Endpoints[0], "/"))
		opts.UsePathStyle = true
	}
	endpoint := "https://" + o.S3.Bucket + ".s3." + o.S3.Region + ".amazonaws.com"
	objectBase := "https://" + o.S3.Bucket + ".s3." + region + ".amazonaws.com"
	if len(o.Endpoints) > 0 {
		endpoint = strings.TrimSuffix(o.Endpoints[0], "/")
		objectBase = endpoint + "/" + url.PathEscape(o.S3.Bucket) // path style, as the SDK's client
	}
	return &s3Fetcher{
		id:          o.ID,
		endpoint:    endpoint,
		bucket:      o.S3.Bucket,
		prefix:      strings.TrimPrefix(o.OriginPath, "/"),
		client:      s3.New(opts),
		transport:   tr,
		readTimeout: s.readTimeout,
		completion:  s.completion,
		region:      region,
		creds:       creds,
		objectBase:  objectBase,
	}, nil
}

// s3Credentials picks the credentials that sign S3 requests: the SDK's
// default chain when the origin asks for it (source: default-chain), else
// the origin's keys (its originCredentials, or the environment's, which
// config resolved), else none (anonymous, unsigned requests). The default
// chain is opt-in only: among its sources is the EC2 instance metadata
// service, which must not be asked unasked.
func s3Credentials(c *config.Credentials) (aws.CredentialsProvider, error) {
	if c != nil && c.DefaultChain {
		cfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			return nil, fmt.Errorf("the AWS SDK's default chain: %w", err)
		}
		return cfg.Credentials, nil
	}
	if c != nil && c.AccessKeyID != "" {
		return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken), nil
	}
	return aws.AnonymousCredentials{}, nil
}

// connectionRetryer makes the SDK behave like CloudFront's connection
// attempts: attempts in all, at once, only after connection failures and
// timeouts (never after an answer from S3), with no retry quota.
func connectionRetryer(attempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			retry.RetryableConnectionError{},
		}
	})
}

// Close closes the idle connections to S3. The fetcher stays usable.
func (f *s3Fetcher) Close() error {
	f.transport.CloseIdleConnections()
	return nil
}

// key is the object key for an escaped request path.
func (f *s3Fetcher) key(path string) (string, error) {
	p, err := url.PathUnescape(path)
	if err != nil {
		return "", err
	}
	p = strings.TrimPrefix(p, "/")
	if f.prefix == "" {
		return p, nil
	}
	return f.prefix + "/" + p, nil
}

// Fetch answers r from the bucket.
func (f *s3Fetcher) Fetch(ctx context.Context, r *Request) (*Response, error) {
	resp, err := f.fetch(ctx, r)
	if resp != nil {
		resp.Endpoint = f.endpoint
	}
	return resp, err
}

// fetch is Fetch without the answer's Endpoint.
func (f *s3Fetcher) fetch(ctx context.Context, r *Request) (*Response, error) {
	ctx, stop := withCompletion(ctx, f.completion)
	var resp *Response
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		resp, err = f.read(ctx, r)
	default:
		resp, err = f.forward(ctx, r)
	}
	if err != nil || resp.Body == http.NoBody {
		stop()
	} else {
		resp.Body = &stopBody{ReadCloser: resp.Body, stop: stop}
	}
	return resp, err
}

// stopBody releases the response completion timer when the body is closed.
type stopBody struct {
	io.ReadCloser
	stop func()
}

func (b *stopBody) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}

// forward sends a request other than GET and HEAD to the bucket as the
// viewer sent it (method, OriginPath + path, query, headers, body), signed
// with the origin's credentials. The payload is signed as the viewer's
// x-amz-content-sha256 says (CloudFront requires it for PUT with origin
// access control), else sent as UNSIGNED-PAYLOAD.
func (f *s3Fetcher) forward(ctx context.Context, r *Request) (*Response, error) {
	path := r.Path
	if f.prefix != "" {
		path = (&url.URL{Path: "/" + f.prefix}).EscapedPath() + path
	}
	u, err := url.Parse(f.objectBase + path)
	if err != nil {
		return f.localError(r.Method, http.StatusBadRequest, s3Error{Code: "InvalidURI", Message: "Couldn't parse the specified URI."}), nil
	}
	u.RawQuery = r.RawQuery
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), nil)
	if err != nil {
		return nil, &Error{Kind: Protocol, OriginID: f.id, Err: err}
	}
	req.Header = r.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	for _, h := range []string{"Host", "Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		req.Header.Del(h) // the signature is CloudFront's, not the viewer's
	}
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		req.Body, req.ContentLength = io.NopCloser(r.Body), r.ContentLength
	}
	payload := req.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
		req.Header.Set("X-Amz-Content-Sha256", payload)
	}
	if _, anon := f.creds.(aws.AnonymousCredentials); !anon {
		c, err := f.creds.Retrieve(ctx)
		if err != nil {
			return nil, &Error{Kind: Connect, OriginID: f.id, Err: fmt.Errorf("credentials: %w", err)}
		}
		if err := v4.NewSigner().SignHTTP(ctx, c, req, payload, "s3", f.region, time.Now()); err != nil {
			return nil, &Error{Kind: Protocol, OriginID: f.id, Err: fmt.Errorf("signing: %w", err)}
		}
	}
	actx, cancel := context.WithCancel(ctx)
	hr, err := f.transport.RoundTrip(req.WithContext(actx))
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctxError(ctx, f.id, err)
		}
		return nil, &Error{Kind: transportKind(err), OriginID: f.id, Err: err}
	}
	fields.RemoveHopByHop(hr.Header)
	return &Response{
		StatusCode:    hr.StatusCode,
		Header:        hr.Header,
		Body:          newWatchedBody(ctx, hr.Body, f.readTimeout, cancel, f.id),
		ContentLength: hr.ContentLength,
	}, nil
}

// read answers GET and HEAD through the SDK.
func (f *s3Fetcher) read(ctx context.Context, r *Request) (*Response, error) {
	key, err := f.key(r.Path)
	if err != nil {
		return f.localError(r.Method, http.StatusBadRequest, s3Error{
			Code: "InvalidURI", Message: "Couldn't parse the specified URI.",
		}), nil
	}
	if key == "" {
		// The bucket root lists the bucket; CloudFront's identity may not.
		return f.localError(r.Method, http.StatusForbidden, s3Error{
			Code: "AccessDenied", Message: "Access Denied",
		}), nil
	}
	actx, cancel := context.WithCancel(ctx)
	var resp *Response
	if r.Method == http.MethodHead {
		resp, err = f.head(actx, key, r)
		cancel()
	} else {
		resp, err = f.get(actx, key, r)
		if err != nil || resp.Body == http.NoBody {
			cancel()
		} else {
			resp.Body = newWatchedBody(ctx, resp.Body, f.readTimeout, cancel, f.id)
		}
	}
	if err != nil {
		return f.fromError(ctx, r.Method, key, err)
	}
	return resp, nil
}

func (f *s3Fetcher) get(ctx context.Context, key string, r *Request) (*Response, error) {
	c := conditionsOf(r)
	out, err := f.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), VersionId: c.versionID,
		Range: c.rng, IfMatch: c.ifMatch, IfNoneMatch: c.ifNoneMatch,
		IfModifiedSince: c.ifModifiedSince, IfUnmodifiedSince: c.ifUnmodifiedSince,
	})
	if err != nil {
		return nil, err
	}
	m := object{
		contentType: out.ContentType, contentLength: out.ContentLength, etag: out.ETag,
		lastModified: out.LastModified, cacheControl: out.CacheControl,
		expires: out.ExpiresString, contentEncoding: out.ContentEncoding,
		contentDisposition: out.ContentDisposition, contentLanguage: out.ContentLanguage,
		contentRange: out.ContentRange, acceptRanges: out.AcceptRanges,
		metadata: out.Metadata, versionID: out.VersionId,
		sse: string(out.ServerSideEncryption), result: out.ResultMetadata,
	}
	return m.response(out.Body), nil
}

func (f *s3Fetcher) head(ctx context.Context, key string, r *Request) (*Response, error) {
	c := conditionsOf(r)
	out, err := f.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), VersionId: c.versionID,
		Range: c.rng, IfMatch: c.ifMatch, IfNoneMatch: c.ifNoneMatch,
		IfModifiedSince: c.ifModifiedSince, IfUnmodifiedSince: c.ifUnmodifiedSince,
	})
	if err != nil {
		return nil, err
	}
	m := object{
		contentType: out.ContentType, contentLength: out.ContentLength, etag: out.ETag,
		lastModified: out.LastModified, cacheControl: out.CacheControl,
		expires: out.ExpiresString, contentEncoding: out.ContentEncoding,
		contentDisposition: out.ContentDisposition, contentLanguage: out.ContentLanguage,
		contentRange: out.ContentRange, acceptRanges: out.AcceptRanges,
		metadata: out.Metadata, versionID: out.VersionId,
		sse: string(out.ServerSideEncryption), result: out.ResultMetadata,
	}
	return m.response(nil), nil
}

// conditions are a request's Range, conditional headers and versionId, as
// GetObject and HeadObject take them.
type conditions struct {
	rng, ifMatch, ifNoneMatch, versionID *string
	ifModifiedSince, ifUnmodifiedSince   *time.Time
}

func conditionsOf(r *Request) conditions {
	h := r.Header
	return conditions{
		rng: optString(h.Get("Range")), ifMatch: optString(h.Get("If-Match")),
		ifNoneMatch: optString(h.Get("If-None-Match")), versionID: versionID(r.RawQuery),
		ifModifiedSince: optTime(h.Get("If-Modified-Since")), ifUnmodifiedSince: optTime(h.Get("If-Unmodified-Since")),
	}
}

// object is what GetObject and HeadObject tell about an object.
type object struct {
	contentType, etag, cacheControl, expires             *string
	contentEncoding, contentDisposition, contentLanguage *string
	contentRange, acceptRanges, versionID                *string
	contentLength                                        *int64
	lastModified                                         *time.Time
	metadata                                             map[string]string
	sse                                                  string
	result                                               middleware.Metadata
}

// response renders the object's headers as S3 sends them; body nil means
// none (HEAD).
func (m object) response(body io.ReadCloser) *Response {
	h := make(http.Header, 16)
	set := func(name string, v *string) {
		if v != nil && *v != "" {
			h.Set(name, *v)
		}
	}
	set("Content-Type", m.contentType)
	set("ETag", m.etag)
	if m.lastModified != nil {
		h.Set("Last-Modified", m.lastModified.UTC().Format(http.TimeFormat))
	}
	set("Cache-Control", m.cacheControl)
	set("Expires", m.expires)
	set("Content-Encoding", m.contentEncoding)
	set("Content-Disposition", m.contentDisposition)
	set("Content-Language", m.contentLanguage)
	set("Content-Range", m.contentRange)
	if m.acceptRanges != nil && *m.acceptRanges != "" {
		h.Set("Accept-Ranges", *m.acceptRanges)
	} else {
		h.Set("Accept-Ranges", "bytes")
	}
	for k, v := range m.metadata {
		h.Set("X-Amz-Meta-"+k, v)
	}
	set("X-Amz-Version-Id", m.versionID)
	if m.sse != "" {
		h.Set("X-Amz-Server-Side-Encryption", m.sse)
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(m.result); ok && id != "" {
		h.Set("X-Amz-Request-Id", id)
	}
	if id, ok := s3.GetHostIDMetadata(m.result); ok && id != "" {
		h.Set("X-Amz-Id-2", id)
	}
	h.Set("Server", "AmazonS3")
	n := int64(-1)
	if m.contentLength != nil {
		n = *m.contentLength
		h.Set("Content-Length", strconv.FormatInt(n, 10))
	}
	status := http.StatusOK
	if m.contentRange != nil && *m.contentRange != "" {
		status = http.StatusPartialContent
	}
	if body == nil {
		body = http.NoBody
	}
	return &Response{StatusCode: status, Header: h, Body: body, ContentLength: n}
}

// s3Error is S3's XML error document.
type s3Error struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string
	Message      string
	Key          string `xml:",omitempty"`
	Method       string `xml:",omitempty"`
	ResourceType string `xml:",omitempty"`
	RequestID    string `xml:"RequestId"`
	HostID       string `xml:"HostId"`
}

// errorResponse renders an S3 error: the XML document for GET, only the
// status and headers for HEAD (S3 sends no body there).
func errorResponse(method string, status int, e s3Error) *Response {
	h := make(http.Header, 6)
	h.Set("Server", "AmazonS3")
	h.Set("X-Amz-Request-Id", e.RequestID)
	h.Set("X-Amz-Id-2", e.HostID)
	if method == http.MethodHead {
		return &Response{StatusCode: status, Header: h, Body: http.NoBody, ContentLength: 0}
	}
	doc, err := xml.Marshal(e)
	if err != nil { // only strings: cannot happen
		doc = []byte("<Error><Code>InternalError</Code></Error>")
	}
	doc = append([]byte(xml.Header), doc...) // xml.Header ends in "\n", as S3's does
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	return &Response{
		StatusCode:    status,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(string(doc))),
		ContentLength: int64(len(doc)),
	}
}

// localError is an S3-style error answered without asking S3, with fresh
// request and host IDs as S3 would give.
func (f *s3Fetcher) localError(method string, status int, e s3Error) *Response {
	var b [40]byte
	_, _ = rand.Read(b[:])
	e.RequestID = strings.ToUpper(hex.EncodeToString(b[:8]))
	e.HostID = base64.StdEncoding.EncodeToString(b[8:])
	return errorResponse(method, status, e)
}

// s3Message is S3's messages for the errors whose response carries none
// (HEAD) or whose message the SDK dropped.
func s3Message(code string) string {
	switch code {
	case "NoSuchKey":
		return "The specified key does not exist."
	case "NoSuchBucket":
		return "The specified bucket does not exist"
	case "AccessDenied":
		return "Access Denied"
	case "InvalidRange":
		return "The requested range is not satisfiable"
	case "PreconditionFailed":
		return "At least one of the pre-conditions you specified did not hold"
	}
	return ""
}

// fromError turns an SDK error into what CloudFront would get: S3's answer
// (304 and 412 as responses, errors as S3's XML documents), or an *Error when
// S3 could not be reached.
func (f *s3Fetcher) fromError(ctx context.Context, method, key string, err error) (*Response, error) {
	if ctx.Err() != nil {
		return nil, ctxError(ctx, f.id, err)
	}
	// A request that could not be sent carries an empty response (status 0).
	var send *smithyhttp.RequestSendError
	var re *smithyhttp.ResponseError
	if errors.As(err, &send) || !errors.As(err, &re) ||
		re.Response == nil || re.Response.Response == nil || re.HTTPStatusCode() == 0 {
		return nil, &Error{Kind: transportKind(err), OriginID: f.id, Err: err}
	}
	status := re.HTTPStatusCode()
	raw := re.Response.Header
	if status == http.StatusNotModified {
		h := make(http.Header, 8)
		for _, name := range []string{"ETag", "Last-Modified", "Cache-Control", "Expires",
			"X-Amz-Version-Id", "X-Amz-Request-Id", "X-Amz-Id-2"} {
			if v := raw.Get(name); v != "" {
				h.Set(name, v)
			}
		}
		h.Set("Server", "AmazonS3")
		return &Response{StatusCode: status, Header: h, Body: http.NoBody, ContentLength: 0}, nil
	}
	e := s3Error{
		Code:      http.StatusText(status),
		RequestID: raw.Get("X-Amz-Request-Id"),
		HostID:    raw.Get("X-Amz-Id-2"),
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
	}
	switch {
	case status == http.StatusNotFound && (e.Code == "NotFound" || e.Code == ""):
		e.Code = "NoSuchKey" // HEAD carries no code; S3 means this one
	case status == http.StatusForbidden && (e.Code == "Forbidden" || e.Code == ""):
		e.Code = "AccessDenied"
	case status == http.StatusPreconditionFailed && e.Code == "":
		e.Code = "PreconditionFailed"
	}
	if e.Message == "" || e.Message == e.Code || e.Message == http.StatusText(status) {
		if m := s3Message(e.Code); m != "" {
			e.Message = m
		}
	}
	if e.Code == "NoSuchKey" {
		e.Key = key
	}
	if e.RequestID == "" || e.HostID == "" {
		var ids s3.ResponseError
		if errors.As(err, &ids) {
			e.RequestID, e.HostID = ids.ServiceRequestID(), ids.ServiceHostID()
		}
	}
	return errorResponse(method, status, e), nil
}

// transportKind classifies an error that left no HTTP response.
func transportKind(err error) Kind {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return Connect
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Timeout
	}
	return Connect
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optTime parses an HTTP date; an invalid one is ignored, as S3 does.
func optTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return nil
	}
	return &t
}

// versionID is the versionId query parameter, which S3 honours on GET/HEAD.
func versionID(rawQuery string) *string {
	if !strings.Contains(rawQuery, "versionId=") {
		return nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil
	}
	return optString(q.Get("versionId"))
}
