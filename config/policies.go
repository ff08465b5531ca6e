package config

// This file holds the policy shapes as `aws cloudfront get-cache-policy`,
// `get-origin-request-policy` and `get-response-headers-policy` print them
// (without the {"ETag": …} wrapper, which the loader also accepts).

// CustomCachePolicy is a cache policy: {Id, CachePolicyConfig}.
type CustomCachePolicy struct {
	Id                string             `json:"Id,omitempty"`
	LastModifiedTime  string             `json:"LastModifiedTime,omitempty"`
	CachePolicyConfig *CachePolicyConfig `json:"CachePolicyConfig,omitempty"`
}

// CachePolicyConfig is the API's CachePolicyConfig.
type CachePolicyConfig struct {
	Name                                     string                `json:"Name,omitempty"`
	Comment                                  string                `json:"Comment,omitempty"`
	DefaultTTL                               *int64                `json:"DefaultTTL,omitempty"`
	MaxTTL                                   *int64                `json:"MaxTTL,omitempty"`
	MinTTL                                   *int64                `json:"MinTTL,omitempty"`
	ParametersInCacheKeyAndForwardedToOrigin *ParametersInCacheKey `json:"ParametersInCacheKeyAndForwardedToOrigin,omitempty"`
}

// ParametersInCacheKey is the API's ParametersInCacheKeyAndForwardedToOrigin.
type ParametersInCacheKey struct {
	EnableAcceptEncodingGzip   *bool               `json:"EnableAcceptEncodingGzip,omitempty"`
	EnableAcceptEncodingBrotli *bool               `json:"EnableAcceptEncodingBrotli,omitempty"`
	HeadersConfig              *HeadersConfig      `json:"HeadersConfig,omitempty"`
	CookiesConfig              *CookiesConfig      `json:"CookiesConfig,omitempty"`
	QueryStringsConfig         *QueryStringsConfig `json:"QueryStringsConfig,omitempty"`
}

// HeadersConfig is a {HeaderBehavior, Headers} choice (cache and origin
// request policies share the shape; the allowed behaviours differ).
type HeadersConfig struct {
	HeaderBehavior string        `json:"HeaderBehavior,omitempty"`
	Headers        *List[string] `json:"Headers,omitempty"`
}

// CookiesConfig is a {CookieBehavior, Cookies} choice.
type CookiesConfig struct {
	CookieBehavior string        `json:"CookieBehavior,omitempty"`
	Cookies        *List[string] `json:"Cookies,omitempty"`
}

// QueryStringsConfig is a {QueryStringBehavior, QueryStrings} choice.
type QueryStringsConfig struct {
	QueryStringBehavior string        `json:"QueryStringBehavior,omitempty"`
	QueryStrings        *List[string] `json:"QueryStrings,omitempty"`
}

// CustomOriginRequestPolicy is an origin request policy:
// {Id, OriginRequestPolicyConfig}.
type CustomOriginRequestPolicy struct {
	Id                        string                     `json:"Id,omitempty"`
	LastModifiedTime          string                     `json:"LastModifiedTime,omitempty"`
	OriginRequestPolicyConfig *OriginRequestPolicyConfig `json:"OriginRequestPolicyConfig,omitempty"`
}

// OriginRequestPolicyConfig is the API's OriginRequestPolicyConfig.
type OriginRequestPolicyConfig struct {
	Name               string              `json:"Name,omitempty"`
	Comment            string              `json:"Comment,omitempty"`
	HeadersConfig      *HeadersConfig      `json:"HeadersConfig,omitempty"`
	CookiesConfig      *CookiesConfig      `json:"CookiesConfig,omitempty"`
	QueryStringsConfig *QueryStringsConfig `json:"QueryStringsConfig,omitempty"`
}

// CustomResponseHeadersPolicy is a response headers policy:
// {Id, ResponseHeadersPolicyConfig}.
type CustomResponseHeadersPolicy struct {
	Id                          string                       `json:"Id,omitempty"`
	LastModifiedTime            string                       `json:"LastModifiedTime,omitempty"`
	ResponseHeadersPolicyConfig *ResponseHeadersPolicyConfig `json:"ResponseHeadersPolicyConfig,omitempty"`
}

// ResponseHeadersPolicyConfig is the API's ResponseHeadersPolicyConfig.
type ResponseHeadersPolicyConfig struct {
	Name                      string                      `json:"Name,omitempty"`
	Comment                   string                      `json:"Comment,omitempty"`
	CorsConfig                *CorsConfig                 `json:"CorsConfig,omitempty"`
	SecurityHeadersConfig     *SecurityHeadersConfig      `json:"SecurityHeadersConfig,omitempty"`
	ServerTimingHeadersConfig *ServerTimingHeadersConfig  `json:"ServerTimingHeadersConfig,omitempty"`
	CustomHeadersConfig       *List[ResponseCustomHeader] `json:"CustomHeadersConfig,omitempty"`
	RemoveHeadersConfig       *List[ResponseRemoveHeader] `json:"RemoveHeadersConfig,omitempty"`
}

// CorsConfig is the API's ResponseHeadersPolicyCorsConfig.
type CorsConfig struct {
	AccessControlAllowOrigins     *List[string] `json:"AccessControlAllowOrigins,omitempty"`
	AccessControlAllowHeaders     *List[string] `json:"AccessControlAllowHeaders,omitempty"`
	AccessControlAllowMethods     *List[string] `json:"AccessControlAllowMethods,omitempty"`
	AccessControlAllowCredentials *bool         `json:"AccessControlAllowCredentials,omitempty"`
	AccessControlExposeHeaders    *List[string] `json:"AccessControlExposeHeaders,omitempty"`
	AccessControlMaxAgeSec        *int          `json:"AccessControlMaxAgeSec,omitempty"`
	OriginOverride                *bool         `json:"OriginOverride,omitempty"`
}

// SecurityHeadersConfig is the API's ResponseHeadersPolicySecurityHeadersConfig.
type SecurityHeadersConfig struct {
	XSSProtection           *XSSProtectionConfig           `json:"XSSProtection,omitempty"`
	FrameOptions            *FrameOptionsConfig            `json:"FrameOptions,omitempty"`
	ReferrerPolicy          *ReferrerPolicyConfig          `json:"ReferrerPolicy,omitempty"`
	ContentSecurityPolicy   *ContentSecurityPolicyConfig   `json:"ContentSecurityPolicy,omitempty"`
	ContentTypeOptions      *ContentTypeOptionsConfig      `json:"ContentTypeOptions,omitempty"`
	StrictTransportSecurity *StrictTransportSecurityConfig `json:"StrictTransportSecurity,omitempty"`
}

// XSSProtectionConfig renders X-XSS-Protection.
type XSSProtectionConfig struct {
	Override   *bool  `json:"Override,omitempty"`
	Protection *bool  `json:"Protection,omitempty"`
	ModeBlock  *bool  `json:"ModeBlock,omitempty"`
	ReportUri  string `json:"ReportUri,omitempty"`
}

// FrameOptionsConfig renders X-Frame-Options.
type FrameOptionsConfig struct {
	Override    *bool  `json:"Override,omitempty"`
	FrameOption string `json:"FrameOption,omitempty"`
}

// ReferrerPolicyConfig renders Referrer-Policy.
type ReferrerPolicyConfig struct {
	Override       *bool  `json:"Override,omitempty"`
	ReferrerPolicy string `json:"ReferrerPolicy,omitempty"`
}

// ContentSecurityPolicyConfig renders Content-Security-Policy.
type ContentSecurityPolicyConfig struct {
	Override              *bool  `json:"Override,omitempty"`
	ContentSecurityPolicy string `json:"ContentSecurityPolicy,omitempty"`
}

// ContentTypeOptionsConfig renders X-Content-Type-Options: nosniff.
type ContentTypeOptionsConfig struct {
	Override *bool `json:"Override,omitempty"`
}

// StrictTransportSecurityConfig renders Strict-Transport-Security.
type StrictTransportSecurityConfig struct {
	Override               *bool `json:"Override,omitempty"`
	IncludeSubdomains      *bool `json:"IncludeSubdomains,omitempty"`
	Preload                *bool `json:"Preload,omitempty"`
	AccessControlMaxAgeSec *int  `json:"AccessControlMaxAgeSec,omitempty"`
}

// ServerTimingHeadersConfig enables the Server-Timing header.
type ServerTimingHeadersConfig struct {
	Enabled      *bool    `json:"Enabled,omitempty"`
	SamplingRate *float64 `json:"SamplingRate,omitempty"`
}

// ResponseCustomHeader is one header a response headers policy adds.
type ResponseCustomHeader struct {
	Header   string `json:"Header"`
	Value    string `json:"Value"`
	Override *bool  `json:"Override,omitempty"`
}

// ResponseRemoveHeader is one header a response headers policy removes.
type ResponseRemoveHeader struct {
	Header string `json:"Header"`
}
