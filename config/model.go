package config

import (
	"net/http"
	"strings"
	"time"
)

// This file is the compiled runtime model: what every other package reads.
// Values of these types are built once by Load/Parse and never mutated
// afterwards; a reload builds a new *Config and swaps it whole.

// Config is a compiled edgefront configuration: the edgefront settings and
// every distribution they name.
type Config struct {
	// Source is the file the configuration was read from ("" when built in memory).
	Source string
	// Files is every file the configuration was read from: Source, the
	// configFiles and templates it names, and its functions' code and key
	// value store files.
	Files         []string
	Listen        Listen
	Cache         Cache
	TLS           TLS
	Pop           string // X-Amz-Cf-Pop value and x-edge-location, e.g. "LOCAL1-C1"
	Keys          *Keys  // public keys, key groups and key pairs of signed URLs and cookies (keys.go)
	Quotas        Quotas // per-distribution quotas every distribution was checked against
	Distributions []*Distribution
	// Functions are the CloudFront Functions by ARN, KeyValueStores the
	// key value stores by name (functions.go).
	Functions      map[string]*Function
	KeyValueStores map[string]*KeyValueStore
	// LambdaFunctions are the Lambda@Edge functions whose code is on this
	// machine, by ARN; LambdaEndpoint is the Lambda Invoke API that runs
	// the others ("" when none; lambda.go).
	LambdaFunctions map[string]*LambdaFunction
	LambdaEndpoint  string
	// Cluster is the nodes this one shares invalidations with (cluster.go).
	Cluster Cluster
}

// Listen holds the listener addresses; an empty address disables that listener.
type Listen struct {
	HTTP  string
	HTTPS string
	Admin string
}

// Cache holds the cache settings.
type Cache struct {
	Size          int64 // bytes of bodies and headers the cache may hold
	MaxObjectSize int64 // larger objects are passed through uncached (or stored on Disk only)
	Disk          DiskCache
}

// DiskCache is the persistent disk tier (cache.disk); Path is empty when
// there is none.
type DiskCache struct {
	Path          string // directory of the cache files
	Size          int64  // bytes the files may take
	MaxObjectSize int64  // larger objects are not stored on disk
}

// TLS holds the https listener's certificate settings.
type TLS struct {
	Mode         string // "self-signed" | "files" | "acme"
	Certificates []CertificateFiles
	ACME         ACME
}

// CertificateFiles names one PEM certificate chain and its key.
type CertificateFiles struct {
	CertFile string
	KeyFile  string
}

// ACME holds the settings for certificates from an ACME CA (autocert).
type ACME struct {
	Hosts        []string
	CacheDir     string
	Email        string
	DirectoryURL string
}

// Distribution is one compiled CloudFront distribution.
type Distribution struct {
	ID                string // e.g. E2EXAMPLE
	DomainName        string // e.g. d111111abcdef8.cloudfront.net
	Aliases           []string
	Enabled           bool
	Comment           string
	DefaultRootObject string
	HTTPVersion       string // http1.1 | http2 | http2and3 | http3
	IPv6              bool
	PriceClass        string

	// Behaviors are the CacheBehaviors in their configured order; Default is
	// not among them.
	Behaviors []*Behavior
	Default   *Behavior

	Origins      map[string]*Origin
	OriginGroups map[string]*OriginGroup

	// ErrorResponses holds the CustomErrorResponses by error code.
	ErrorResponses map[int]*ErrorResponse

	GeoRestriction GeoRestriction

	// Shield is the base URL of the edgefront node that is this
	// distribution's origin shield (edgefront's originShield), e.g.
	// "http://127.0.0.1:8081"; "" means this node fetches from the origins
	// itself. The shield node runs the same distribution without one.
	Shield string

	// Semantics is how the distribution caches where CloudFront and RFC
	// 9111 differ (edgefront's httpSemantics): CloudFront's way unless the
	// settings opt in to rfc9111.
	Semantics HTTPSemantics

	// Raw is the DistributionConfig as read (for the control API's
	// GetDistributionConfig); ETag identifies this version of it.
	Raw  *DistributionConfig
	ETag string

	// Ignored lists the settings of Raw that are accepted but not emulated
	// (see Config.Warnings).
	Ignored Errors
}

// HTTPSemantics is a distribution's caching semantics (edgefront's
// httpSemantics setting).
type HTTPSemantics string

// The caching semantics a distribution may have.
const (
	// SemanticsCloudFront (the default, "") follows CloudFront's
	// documented behaviour, and RFC 9111 where the guide is silent.
	SemanticsCloudFront HTTPSemantics = "cloudfront"
	// SemanticsRFC9111 follows RFC 9111 where CloudFront departs from it
	// (README, "HTTP semantics").
	SemanticsRFC9111 HTTPSemantics = "rfc9111"
)

// RFC9111 reports whether the distribution opted in to RFC 9111's caching
// semantics.
func (d *Distribution) RFC9111() bool { return d.Semantics == SemanticsRFC9111 }

// Match returns the behaviour for a request path: the first CacheBehavior
// whose PathPattern matches, else the default behaviour.
func (d *Distribution) Match(path string) *Behavior {
	for _, b := range d.Behaviors {
		if b.Pattern.Match(path) {
			return b
		}
	}
	return d.Default
}

// ErrorCachingMinTTL returns how long an error response with this status code
// is cached when the origin gives no freshness information: the
// CustomErrorResponse's ErrorCachingMinTTL if one is configured for the code,
// else CloudFront's default of 10 seconds.
func (d *Distribution) ErrorCachingMinTTL(code int) time.Duration {
	if e, ok := d.ErrorResponses[code]; ok && e.HasCachingMinTTL {
		return e.ErrorCachingMinTTL
	}
	return DefaultErrorCachingMinTTL
}

// DefaultErrorCachingMinTTL is how long CloudFront caches an error response
// when nothing else is configured.
const DefaultErrorCachingMinTTL = 10 * time.Second

// Behavior is one compiled cache behaviour.
type Behavior struct {
	PathPattern          string // "*" for the default behaviour
	Pattern              Pattern
	TargetOriginID       string // an Origin or an OriginGroup ID
	ViewerProtocolPolicy string // allow-all | redirect-to-https | https-only
	AllowedMethods       Methods
	CachedMethods        Methods
	Compress             bool
	SmoothStreaming      bool

	CachePolicy           *CachePolicy           // never nil (legacy settings compile to one)
	OriginRequestPolicy   *OriginRequestPolicy   // never nil (none compiles to an empty one)
	ResponseHeadersPolicy *ResponseHeadersPolicy // nil when none

	TrustedKeyGroups []string // key group IDs; non-empty means signed URLs/cookies are required
	TrustedSigners   []string // legacy account IDs

	// ViewerRequestFunction and ViewerResponseFunction are the CloudFront
	// Functions associated with the behaviour (nil when none).
	ViewerRequestFunction  *Function
	ViewerResponseFunction *Function
	// Lambda are the Lambda@Edge functions associated with the behaviour,
	// indexed by LambdaViewerRequest… (nil when none; lambda.go).
	Lambda [4]*LambdaAssociation
}

// Viewer protocol policies.
const (
	AllowAll        = "allow-all"
	RedirectToHTTPS = "redirect-to-https"
	HTTPSOnly       = "https-only"
)

// Methods is a set of HTTP methods.
type Methods uint8

// The methods CloudFront knows.
const (
	MethodGET Methods = 1 << iota
	MethodHEAD
	MethodOPTIONS
	MethodPUT
	MethodPATCH
	MethodPOST
	MethodDELETE
)

var methodBits = [...]struct {
	name string
	bit  Methods
}{
	{http.MethodGet, MethodGET}, {http.MethodHead, MethodHEAD}, {http.MethodOptions, MethodOPTIONS},
	{http.MethodPut, MethodPUT}, {http.MethodPatch, MethodPATCH}, {http.MethodPost, MethodPOST},
	{http.MethodDelete, MethodDELETE},
}

// MethodBit returns the bit of an HTTP method, or 0 for a method CloudFront
// does not know.
func MethodBit(method string) Methods {
	for _, m := range methodBits {
		if m.name == method {
			return m.bit
		}
	}
	return 0
}

// Has reports whether method is in the set.
func (m Methods) Has(method string) bool {
	b := MethodBit(method)
	return b != 0 && m&b != 0
}

// String lists the methods in CloudFront's order, comma-separated.
func (m Methods) String() string {
	var names []string
	for _, x := range methodBits {
		if m&x.bit != 0 {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ",")
}

// CachePolicy is a compiled cache policy: TTLs and what goes into the cache key.
type CachePolicy struct {
	ID, Name                   string
	MinTTL, DefaultTTL, MaxTTL time.Duration
	Headers                    Selection // none | whitelist (Items are canonical header names)
	Cookies                    Selection // none | whitelist | allExcept | all
	QueryStrings               Selection // none | whitelist | allExcept | all
	EnableAcceptEncodingGzip   bool
	EnableAcceptEncodingBrotli bool
	// Legacy is true when the policy was compiled from a behaviour's legacy
	// ForwardedValues/MinTTL/DefaultTTL/MaxTTL; then what is in the key is
	// also what is forwarded to the origin.
	Legacy bool
}

// Caching reports whether the policy can cache anything at all
// (CachingDisabled and other all-zero policies cannot).
func (p *CachePolicy) Caching() bool { return p.MaxTTL > 0 }

// Selection is one CloudFront "behavior + items" choice of headers, cookies
// or query strings.
type Selection struct {
	// Behavior is CloudFront's word: none, whitelist, allExcept, all, and for
	// origin request policy headers also allViewer,
	// allViewerAndWhitelistCloudFront.
	Behavior string
	// Items are the names: canonical MIME form for headers, as written for
	// cookies and query strings.
	Items []string
}

// Selection behaviours.
const (
	SelectNone                            = "none"
	SelectWhitelist                       = "whitelist"
	SelectAllExcept                       = "allExcept"
	SelectAll                             = "all"
	SelectAllViewer                       = "allViewer"
	SelectAllViewerAndWhitelistCloudFront = "allViewerAndWhitelistCloudFront"
)

// Includes reports whether name is selected. Header names must be given in
// canonical form; cookie and query string names are case-sensitive.
func (s Selection) Includes(name string) bool {
	switch s.Behavior {
	case SelectAll, SelectAllViewer:
		return true
	case SelectAllViewerAndWhitelistCloudFront:
		return true
	case SelectWhitelist:
		return contains(s.Items, name)
	case SelectAllExcept:
		return !contains(s.Items, name)
	}
	return false
}

func contains(items []string, s string) bool {
	for _, it := range items {
		if it == s {
			return true
		}
	}
	return false
}

// OriginRequestPolicy is a compiled origin request policy: what is forwarded
// to the origin beyond the cache key.
type OriginRequestPolicy struct {
	ID, Name     string
	Headers      Selection // none | whitelist | allViewer | allViewerAndWhitelistCloudFront | allExcept
	Cookies      Selection // none | whitelist | all | allExcept
	QueryStrings Selection // none | whitelist | all | allExcept
}

// ResponseHeadersPolicy is a compiled response headers policy.
type ResponseHeadersPolicy struct {
	ID, Name string
	CORS     *CORSConfig // nil when not configured
	Security SecurityHeaders
	// Custom headers are added to every viewer response.
	Custom []CustomResponseHeader
	// Remove lists canonical header names removed from viewer responses.
	Remove []string
	// ServerTimingSampleRate is 0..100; 0 disables Server-Timing.
	ServerTiming           bool
	ServerTimingSampleRate float64
}

// CORSConfig is the CORS part of a response headers policy.
type CORSConfig struct {
	AllowCredentials bool
	AllowHeaders     []string // "*" allowed
	AllowMethods     []string // "ALL" allowed
	AllowOrigins     []string // "*" allowed
	ExposeHeaders    []string
	MaxAgeSec        int // -1 when not set
	OriginOverride   bool
}

// SecurityHeaders is the security-headers part of a response headers policy;
// a nil field is not set.
type SecurityHeaders struct {
	ContentSecurityPolicy   *OverridableHeader
	ContentTypeOptions      *OverridableHeader // value is always "nosniff"
	FrameOptions            *OverridableHeader // DENY | SAMEORIGIN
	ReferrerPolicy          *OverridableHeader
	StrictTransportSecurity *OverridableHeader // value rendered, e.g. "max-age=31536000; includeSubDomains"
	XSSProtection           *OverridableHeader // value rendered, e.g. "1; mode=block"
}

// OverridableHeader is one header value and whether it overrides the origin's.
type OverridableHeader struct {
	Value    string
	Override bool
}

// CustomResponseHeader is one custom header of a response headers policy.
type CustomResponseHeader struct {
	Name, Value string
	Override    bool
}

// Origin is one compiled origin.
type Origin struct {
	ID            string
	DomainName    string
	OriginPath    string   // "" or "/prefix" without a trailing slash
	CustomHeaders []Header // added to every origin request, replacing viewer headers of the same name

	S3     *S3Origin     // set for an S3OriginConfig (S3 REST endpoint) origin
	Custom *CustomOrigin // set for a CustomOriginConfig origin

	ConnectionAttempts    int           // 1..3, default 3
	ConnectionTimeout     time.Duration // 1..10 s, default 10 s
	OriginAccessControlID string
	OriginShield          OriginShield

	// ResponseCompletionTimeout bounds the whole origin response, body
	// included; 0 means no bound (CloudFront's default).
	ResponseCompletionTimeout time.Duration

	// Endpoints are where the origin really is (edgefront's originEndpoints),
	// as base URLs like "http://127.0.0.1:9000"; empty means DomainName
	// with the ports and protocol policy of the origin.
	Endpoints []string
	// Balancing spreads requests over several Endpoints (edgefront's
	// originBalancing); nil means round-robin with passive ejection after
	// DefaultEjectAfter failures for DefaultEjectFor, and no health checks.
	Balancing *Balancing

	// Credentials sign S3 origin requests (edgefront's originCredentials, or
	// the environment's AWS keys: see Credentials.FromEnvironment); nil
	// means anonymous requests.
	Credentials *Credentials
}

// Balancing is how an origin's requests are spread over its endpoints.
type Balancing struct {
	Policy string // RoundRobin | LeastConnections
	// EjectAfter consecutive failed attempts on an endpoint (no connection,
	// or no response at all) take it out of rotation for EjectFor; 0 never
	// ejects. An ejected endpoint that fails again when it is back is
	// ejected again at once.
	EjectAfter  int
	EjectFor    time.Duration
	HealthCheck *HealthCheck // nil: no active health checks
}

// HealthCheck is an active health check of every endpoint of an origin: a
// GET of Path every Interval; a 2xx or 3xx within Timeout is a success.
// UnhealthyThreshold failures in a row take an endpoint out of rotation,
// HealthyThreshold successes in a row bring it back.
type HealthCheck struct {
	Path               string
	Interval           time.Duration
	Timeout            time.Duration
	UnhealthyThreshold int
	HealthyThreshold   int
}

// Load-balancing policies and the defaults of originBalancing. The health
// check defaults are those of an Elastic Load Balancing target group.
const (
	RoundRobin       = "round-robin"
	LeastConnections = "least-connections"

	DefaultEjectAfter                    = 3
	DefaultEjectFor                      = 30 * time.Second
	DefaultHealthCheckPath               = "/"
	DefaultHealthCheckInterval           = 30 * time.Second
	DefaultHealthCheckTimeout            = 5 * time.Second
	DefaultHealthCheckUnhealthyThreshold = 2
	DefaultHealthCheckHealthyThreshold   = 5
)

// Header is one header name and value.
type Header struct {
	Name, Value string
}

// S3Origin holds what an S3 REST origin needs.
type S3Origin struct {
	Bucket               string // from DomainName, e.g. "my-bucket" of my-bucket.s3.us-east-1.amazonaws.com
	Region               string // from DomainName or credentials, default us-east-1
	OriginAccessIdentity string
}

// CustomOrigin holds a CustomOriginConfig.
type CustomOrigin struct {
	HTTPPort         int    // default 80
	HTTPSPort        int    // default 443
	ProtocolPolicy   string // http-only | https-only | match-viewer
	SSLProtocols     []string
	ReadTimeout      time.Duration // 1..180 s, default 30 s
	KeepaliveTimeout time.Duration // 1..180 s, default 5 s
}

// Origin protocol policies.
const (
	HTTPOnly    = "http-only"
	MatchViewer = "match-viewer"
	// HTTPSOnly (above) is shared with the viewer protocol policy.
)

// OriginShield is the Origin Shield setting of an origin.
type OriginShield struct {
	Enabled bool
	Region  string
}

// Credentials are the AWS credentials that sign S3 origin requests: static
// keys, or, with DefaultChain, the AWS SDK's default credential chain.
type Credentials struct {
	DefaultChain bool
	// FromEnvironment: the keys are the process environment's
	// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, taken
	// for an S3 origin without originCredentials when the configuration
	// was compiled.
	FromEnvironment bool
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Region          string
}

// OriginGroup is a compiled origin group: failover from the first member to
// the second.
type OriginGroup struct {
	ID            string
	Members       []string // origin IDs, primary first
	FailoverCodes []int
}

// ErrorResponse is one compiled CustomErrorResponse.
type ErrorResponse struct {
	ErrorCode          int
	ResponsePagePath   string // "" when none
	ResponseCode       int    // 0 means: keep the error code
	ErrorCachingMinTTL time.Duration
	HasCachingMinTTL   bool
}

// GeoRestriction is the compiled geo restriction.
type GeoRestriction struct {
	Type      string   // none | whitelist | blacklist
	Countries []string // ISO 3166-1 alpha-2, upper case
}
