package config

// This file holds CloudFront's DistributionConfig exactly as the CloudFront
// API (2020-05-31) and `aws cloudfront get-distribution-config` print it:
// PascalCase names, {Quantity, Items} wrappers. Fields edgefront does not
// emulate are still declared, so a pasted configuration is accepted whole.
// The field list follows the API's current DistributionConfig (as in
// aws-sdk-go-v2/service/cloudfront v1.73 types).

// List is CloudFront's {Quantity, Items} wrapper. Quantity may be omitted
// (it is derived from Items); when given it must equal len(Items).
type List[T any] struct {
	Quantity *int `json:"Quantity"`
	Items    []T  `json:"Items,omitempty"`
}

// Len returns the number of items; a nil list is empty.
func (l *List[T]) Len() int {
	if l == nil {
		return 0
	}
	return len(l.Items)
}

// All returns the items of a possibly nil list.
func (l *List[T]) All() []T {
	if l == nil {
		return nil
	}
	return l.Items
}

// normalizeQuantity fills an omitted Quantity and reports a mismatch.
func (l *List[T]) normalizeQuantity() (given, items int, ok bool) {
	if l.Quantity == nil {
		n := len(l.Items)
		l.Quantity = &n
		return n, n, true
	}
	return *l.Quantity, len(l.Items), *l.Quantity == len(l.Items)
}

// DistributionConfig is CloudFront's DistributionConfig as the API and
// `aws cloudfront get-distribution-config` print it (PascalCase fields).
type DistributionConfig struct {
	CallerReference               string                         `json:"CallerReference,omitempty"`
	Aliases                       *List[string]                  `json:"Aliases,omitempty"`
	DefaultRootObject             string                         `json:"DefaultRootObject,omitempty"`
	Origins                       *List[OriginConfig]            `json:"Origins,omitempty"`
	OriginGroups                  *List[OriginGroupConfig]       `json:"OriginGroups,omitempty"`
	DefaultCacheBehavior          *CacheBehaviorConfig           `json:"DefaultCacheBehavior,omitempty"`
	CacheBehaviors                *List[CacheBehaviorConfig]     `json:"CacheBehaviors,omitempty"`
	CustomErrorResponses          *List[CustomErrorResponse]     `json:"CustomErrorResponses,omitempty"`
	Comment                       string                         `json:"Comment,omitempty"`
	Logging                       *LoggingConfig                 `json:"Logging,omitempty"`
	PriceClass                    string                         `json:"PriceClass,omitempty"`
	Enabled                       *bool                          `json:"Enabled,omitempty"`
	ViewerCertificate             *ViewerCertificate             `json:"ViewerCertificate,omitempty"`
	Restrictions                  *Restrictions                  `json:"Restrictions,omitempty"`
	WebACLId                      string                         `json:"WebACLId,omitempty"`
	HttpVersion                   string                         `json:"HttpVersion,omitempty"`
	IsIPV6Enabled                 *bool                          `json:"IsIPV6Enabled,omitempty"`
	ContinuousDeploymentPolicyId  string                         `json:"ContinuousDeploymentPolicyId,omitempty"`
	Staging                       *bool                          `json:"Staging,omitempty"`
	AnycastIpListId               string                         `json:"AnycastIpListId,omitempty"`
	TenantConfig                  *TenantConfig                  `json:"TenantConfig,omitempty"`
	ConnectionMode                string                         `json:"ConnectionMode,omitempty"`
	ConnectionFunctionAssociation *ConnectionFunctionAssociation `json:"ConnectionFunctionAssociation,omitempty"`
	ViewerMtlsConfig              *ViewerMtlsConfig              `json:"ViewerMtlsConfig,omitempty"`
	CacheTagConfig                *CacheTagConfig                `json:"CacheTagConfig,omitempty"`
}

// OriginConfig is one entry of DistributionConfig.Origins (the API's Origin).
type OriginConfig struct {
	Id                        string                    `json:"Id,omitempty"`
	DomainName                string                    `json:"DomainName,omitempty"`
	OriginPath                string                    `json:"OriginPath"`
	CustomHeaders             *List[OriginCustomHeader] `json:"CustomHeaders,omitempty"`
	S3OriginConfig            *S3OriginConfig           `json:"S3OriginConfig,omitempty"`
	CustomOriginConfig        *CustomOriginConfig       `json:"CustomOriginConfig,omitempty"`
	VpcOriginConfig           *VpcOriginConfig          `json:"VpcOriginConfig,omitempty"`
	ConnectionAttempts        *int                      `json:"ConnectionAttempts,omitempty"`
	ConnectionTimeout         *int                      `json:"ConnectionTimeout,omitempty"`
	ResponseCompletionTimeout *int                      `json:"ResponseCompletionTimeout,omitempty"`
	OriginShield              *OriginShieldConfig       `json:"OriginShield,omitempty"`
	OriginAccessControlId     string                    `json:"OriginAccessControlId"`
}

// OriginCustomHeader is one header CloudFront adds to origin requests.
type OriginCustomHeader struct {
	HeaderName  string `json:"HeaderName"`
	HeaderValue string `json:"HeaderValue"`
}

// S3OriginConfig marks an S3 REST endpoint origin.
type S3OriginConfig struct {
	OriginAccessIdentity string `json:"OriginAccessIdentity"`
	OriginReadTimeout    *int   `json:"OriginReadTimeout,omitempty"`
}

// CustomOriginConfig is the configuration of a custom (HTTP) origin.
type CustomOriginConfig struct {
	HTTPPort               *int              `json:"HTTPPort,omitempty"`
	HTTPSPort              *int              `json:"HTTPSPort,omitempty"`
	OriginProtocolPolicy   string            `json:"OriginProtocolPolicy,omitempty"`
	OriginSslProtocols     *List[string]     `json:"OriginSslProtocols,omitempty"`
	OriginReadTimeout      *int              `json:"OriginReadTimeout,omitempty"`
	OriginKeepaliveTimeout *int              `json:"OriginKeepaliveTimeout,omitempty"`
	IpAddressType          string            `json:"IpAddressType,omitempty"`
	OriginMtlsConfig       *OriginMtlsConfig `json:"OriginMtlsConfig,omitempty"`
}

// OriginMtlsConfig is mutual TLS toward the origin (accepted, not emulated).
type OriginMtlsConfig struct {
	ClientCertificateArn string `json:"ClientCertificateArn,omitempty"`
}

// VpcOriginConfig is a VPC origin (accepted; compiled as a custom origin).
type VpcOriginConfig struct {
	VpcOriginId            string `json:"VpcOriginId,omitempty"`
	OwnerAccountId         string `json:"OwnerAccountId,omitempty"`
	OriginReadTimeout      *int   `json:"OriginReadTimeout,omitempty"`
	OriginKeepaliveTimeout *int   `json:"OriginKeepaliveTimeout,omitempty"`
}

// OriginShieldConfig is the API's OriginShield.
type OriginShieldConfig struct {
	Enabled            *bool  `json:"Enabled,omitempty"`
	OriginShieldRegion string `json:"OriginShieldRegion,omitempty"`
}

// OriginGroupConfig is one entry of DistributionConfig.OriginGroups.
type OriginGroupConfig struct {
	Id                string                       `json:"Id,omitempty"`
	FailoverCriteria  *OriginGroupFailoverCriteria `json:"FailoverCriteria,omitempty"`
	Members           *List[OriginGroupMember]     `json:"Members,omitempty"`
	SelectionCriteria string                       `json:"SelectionCriteria,omitempty"`
}

// OriginGroupFailoverCriteria lists the status codes that trigger failover.
type OriginGroupFailoverCriteria struct {
	StatusCodes *List[int] `json:"StatusCodes,omitempty"`
}

// OriginGroupMember names one origin of an origin group.
type OriginGroupMember struct {
	OriginId string `json:"OriginId"`
}

// CacheBehaviorConfig is the API's CacheBehavior and DefaultCacheBehavior
// (the default behaviour has no PathPattern).
type CacheBehaviorConfig struct {
	PathPattern                string                           `json:"PathPattern,omitempty"`
	TargetOriginId             string                           `json:"TargetOriginId,omitempty"`
	TrustedSigners             *TrustedSigners                  `json:"TrustedSigners,omitempty"`
	TrustedKeyGroups           *TrustedKeyGroups                `json:"TrustedKeyGroups,omitempty"`
	ViewerProtocolPolicy       string                           `json:"ViewerProtocolPolicy,omitempty"`
	AllowedMethods             *AllowedMethods                  `json:"AllowedMethods,omitempty"`
	SmoothStreaming            *bool                            `json:"SmoothStreaming,omitempty"`
	Compress                   *bool                            `json:"Compress,omitempty"`
	LambdaFunctionAssociations *List[LambdaFunctionAssociation] `json:"LambdaFunctionAssociations,omitempty"`
	FunctionAssociations       *List[FunctionAssociation]       `json:"FunctionAssociations,omitempty"`
	FieldLevelEncryptionId     string                           `json:"FieldLevelEncryptionId"`
	RealtimeLogConfigArn       string                           `json:"RealtimeLogConfigArn,omitempty"`
	CachePolicyId              string                           `json:"CachePolicyId,omitempty"`
	OriginRequestPolicyId      string                           `json:"OriginRequestPolicyId,omitempty"`
	ResponseHeadersPolicyId    string                           `json:"ResponseHeadersPolicyId,omitempty"`
	GrpcConfig                 *GrpcConfig                      `json:"GrpcConfig,omitempty"`
	ForwardedValues            *ForwardedValues                 `json:"ForwardedValues,omitempty"`
	MinTTL                     *int64                           `json:"MinTTL,omitempty"`
	DefaultTTL                 *int64                           `json:"DefaultTTL,omitempty"`
	MaxTTL                     *int64                           `json:"MaxTTL,omitempty"`
}

// TrustedSigners lists the AWS accounts whose key pairs sign URLs (legacy).
type TrustedSigners struct {
	Enabled *bool `json:"Enabled,omitempty"`
	List[string]
}

// TrustedKeyGroups lists the key groups whose keys sign URLs and cookies.
type TrustedKeyGroups struct {
	Enabled *bool `json:"Enabled,omitempty"`
	List[string]
}

// AllowedMethods is the set of methods a behaviour accepts, with the subset
// it caches.
type AllowedMethods struct {
	List[string]
	CachedMethods *List[string] `json:"CachedMethods,omitempty"`
}

// LambdaFunctionAssociation attaches a Lambda@Edge function (not emulated).
type LambdaFunctionAssociation struct {
	LambdaFunctionARN string `json:"LambdaFunctionARN"`
	EventType         string `json:"EventType"`
	IncludeBody       *bool  `json:"IncludeBody,omitempty"`
}

// FunctionAssociation attaches a CloudFront Function (not emulated).
type FunctionAssociation struct {
	FunctionARN string `json:"FunctionARN"`
	EventType   string `json:"EventType"`
}

// GrpcConfig enables gRPC on a behaviour (accepted, not emulated).
type GrpcConfig struct {
	Enabled *bool `json:"Enabled,omitempty"`
}

// ForwardedValues is the legacy cache-key and forwarding setting.
type ForwardedValues struct {
	QueryString          *bool             `json:"QueryString,omitempty"`
	Cookies              *CookiePreference `json:"Cookies,omitempty"`
	Headers              *List[string]     `json:"Headers,omitempty"`
	QueryStringCacheKeys *List[string]     `json:"QueryStringCacheKeys,omitempty"`
}

// CookiePreference is ForwardedValues.Cookies.
type CookiePreference struct {
	Forward          string        `json:"Forward,omitempty"`
	WhitelistedNames *List[string] `json:"WhitelistedNames,omitempty"`
}

// CustomErrorResponse is one entry of DistributionConfig.CustomErrorResponses.
// ResponseCode is a string in the API ("200"); numbers are accepted too.
type CustomErrorResponse struct {
	ErrorCode          *int   `json:"ErrorCode,omitempty"`
	ResponsePagePath   string `json:"ResponsePagePath"`
	ResponseCode       string `json:"ResponseCode"`
	ErrorCachingMinTTL *int64 `json:"ErrorCachingMinTTL,omitempty"`
}

// LoggingConfig is the standard logging setting (accepted, not emulated).
type LoggingConfig struct {
	Enabled        *bool  `json:"Enabled,omitempty"`
	IncludeCookies *bool  `json:"IncludeCookies,omitempty"`
	Bucket         string `json:"Bucket"`
	Prefix         string `json:"Prefix"`
}

// ViewerCertificate is the viewer-facing TLS setting (accepted; edgefront's
// own tls settings decide the certificate).
type ViewerCertificate struct {
	CloudFrontDefaultCertificate *bool  `json:"CloudFrontDefaultCertificate,omitempty"`
	IAMCertificateId             string `json:"IAMCertificateId,omitempty"`
	ACMCertificateArn            string `json:"ACMCertificateArn,omitempty"`
	SSLSupportMethod             string `json:"SSLSupportMethod,omitempty"`
	MinimumProtocolVersion       string `json:"MinimumProtocolVersion,omitempty"`
	Certificate                  string `json:"Certificate,omitempty"`
	CertificateSource            string `json:"CertificateSource,omitempty"`
}

// Restrictions holds the geo restriction.
type Restrictions struct {
	GeoRestriction *GeoRestrictionConfig `json:"GeoRestriction,omitempty"`
}

// GeoRestrictionConfig is the API's GeoRestriction.
type GeoRestrictionConfig struct {
	RestrictionType string `json:"RestrictionType,omitempty"`
	List[string]
}

// TenantConfig is the multi-tenant parameter list (accepted, not emulated).
type TenantConfig struct {
	ParameterDefinitions []ParameterDefinition `json:"ParameterDefinitions,omitempty"`
}

// ParameterDefinition is one distribution-tenant parameter.
type ParameterDefinition struct {
	Name       string                     `json:"Name"`
	Definition *ParameterDefinitionSchema `json:"Definition,omitempty"`
}

// ParameterDefinitionSchema is a tenant parameter's schema.
type ParameterDefinitionSchema struct {
	StringSchema *StringSchemaConfig `json:"StringSchema,omitempty"`
}

// StringSchemaConfig is a string tenant parameter.
type StringSchemaConfig struct {
	Required     *bool  `json:"Required,omitempty"`
	Comment      string `json:"Comment,omitempty"`
	DefaultValue string `json:"DefaultValue,omitempty"`
}

// ConnectionFunctionAssociation names a connection function (accepted).
type ConnectionFunctionAssociation struct {
	Id string `json:"Id"`
}

// ViewerMtlsConfig is viewer mutual TLS (accepted, not emulated).
type ViewerMtlsConfig struct {
	Mode             string            `json:"Mode,omitempty"`
	TrustStoreConfig *TrustStoreConfig `json:"TrustStoreConfig,omitempty"`
}

// TrustStoreConfig names the trust store of viewer mTLS.
type TrustStoreConfig struct {
	TrustStoreId               string `json:"TrustStoreId"`
	AdvertiseTrustStoreCaNames *bool  `json:"AdvertiseTrustStoreCaNames,omitempty"`
	IgnoreCertificateExpiry    *bool  `json:"IgnoreCertificateExpiry,omitempty"`
}

// CacheTagConfig names the origin response header carrying cache tags.
type CacheTagConfig struct {
	HeaderName string `json:"HeaderName"`
}
