package config

import (
	"net/textproto"
	"strings"
	"time"
)

// This file is CloudFront's managed policy catalogue, from the Developer
// Guide pages "Use managed cache policies", "Use managed origin request
// policies" and "Use managed response headers policies". Every lookup builds
// fresh values, so callers may keep or change what they get.
//
// Names are the API's ("Managed-CachingOptimized"); lookups also accept the
// name without the "Managed-" prefix, as the guide and console write them.

const oneYear = 31536000 * time.Second

// ManagedCachePolicy returns the managed cache policy with this ID or name.
func ManagedCachePolicy(idOrName string) (*CachePolicy, bool) {
	for _, p := range managedCachePolicies() {
		if matchesManaged(p.ID, p.Name, idOrName) {
			return p, true
		}
	}
	return nil, false
}

// ManagedOriginRequestPolicy returns the managed origin request policy with
// this ID or name.
func ManagedOriginRequestPolicy(idOrName string) (*OriginRequestPolicy, bool) {
	for _, p := range managedOriginRequestPolicies() {
		if matchesManaged(p.ID, p.Name, idOrName) {
			return p, true
		}
	}
	return nil, false
}

// ManagedResponseHeadersPolicy returns the managed response headers policy
// with this ID or name.
func ManagedResponseHeadersPolicy(idOrName string) (*ResponseHeadersPolicy, bool) {
	for _, p := range managedResponseHeadersPolicies() {
		if matchesManaged(p.ID, p.Name, idOrName) {
			return p, true
		}
	}
	return nil, false
}

// ManagedCachePolicies returns every managed cache policy, fresh.
func ManagedCachePolicies() []*CachePolicy { return managedCachePolicies() }

// ManagedOriginRequestPolicies returns every managed origin request policy, fresh.
func ManagedOriginRequestPolicies() []*OriginRequestPolicy { return managedOriginRequestPolicies() }

// ManagedResponseHeadersPolicies returns every managed response headers policy, fresh.
func ManagedResponseHeadersPolicies() []*ResponseHeadersPolicy {
	return managedResponseHeadersPolicies()
}

func matchesManaged(id, name, key string) bool {
	return key != "" && (key == id || strings.EqualFold(key, name) || strings.EqualFold("Managed-"+key, name))
}

func none() Selection { return Selection{Behavior: SelectNone} }
func all() Selection  { return Selection{Behavior: SelectAll} }

func headers(behavior string, names ...string) Selection {
	s := Selection{Behavior: behavior}
	for _, n := range names {
		s.Items = append(s.Items, textproto.CanonicalMIMEHeaderKey(n))
	}
	return s
}

func names(behavior string, items ...string) Selection {
	return Selection{Behavior: behavior, Items: items}
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func managedCachePolicies() []*CachePolicy {
	useOriginHeaders := []string{"Host", "Origin", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}
	return []*CachePolicy{{
		ID: "2e54312d-136d-493c-8eb9-b001f22f67d2", Name: "Managed-Amplify",
		MinTTL: secs(2), DefaultTTL: secs(2), MaxTTL: secs(600),
		Headers: headers(SelectWhitelist, "Authorization", "CloudFront-Viewer-Country", "Host"),
		Cookies: all(), QueryStrings: all(),
		EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
	}, {
		ID: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", Name: "Managed-CachingDisabled",
		Headers: none(), Cookies: none(), QueryStrings: none(),
	}, {
		ID: "658327ea-f89d-4fab-a63d-7e88639e58f6", Name: "Managed-CachingOptimized",
		MinTTL: secs(1), DefaultTTL: secs(86400), MaxTTL: oneYear,
		Headers: none(), Cookies: none(), QueryStrings: none(),
		EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
	}, {
		ID: "b2884449-e4de-46a7-ac36-70bc7f1ddd6d", Name: "Managed-CachingOptimizedForUncompressedObjects",
		MinTTL: secs(1), DefaultTTL: secs(86400), MaxTTL: oneYear,
		Headers: none(), Cookies: none(), QueryStrings: none(),
	}, {
		ID: "08627262-05a9-4f76-9ded-b50ca2e3a84f", Name: "Managed-Elemental-MediaPackage",
		MinTTL: 0, DefaultTTL: secs(86400), MaxTTL: oneYear,
		Headers:      headers(SelectWhitelist, "Origin"),
		Cookies:      none(),
		QueryStrings: names(SelectWhitelist, "aws.manifestfilter", "start", "end", "m"),
		// Gzip only: the guide says "Enabled for Gzip".
		EnableAcceptEncodingGzip: true,
	}, {
		ID: "83da9c7e-98b4-4e11-a168-04f0df8e2c65", Name: "UseOriginCacheControlHeaders",
		MinTTL: 0, DefaultTTL: 0, MaxTTL: oneYear,
		Headers: headers(SelectWhitelist, useOriginHeaders...),
		Cookies: all(), QueryStrings: none(),
		EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
	}, {
		ID: "4cc15a8a-d715-48a4-82b8-cc0b614638fe", Name: "UseOriginCacheControlHeaders-QueryStrings",
		MinTTL: 0, DefaultTTL: 0, MaxTTL: oneYear,
		Headers: headers(SelectWhitelist, useOriginHeaders...),
		Cookies: all(), QueryStrings: all(),
		EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
	},
		// The Amplify Hosting policies: the guide lists them as used by
		// Amplify only; settings as the API reports them.
		{
			ID: "4d1d2f1d-3a71-49ad-9e08-7ea5d843a556", Name: "Managed-Amplify-Default",
			MaxTTL:  oneYear,
			Headers: headers(SelectWhitelist, "Accept", "Authorization", "CloudFront-Viewer-Country", "Host"),
			Cookies: all(), QueryStrings: all(),
			EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
		}, {
			ID: "a6bad946-36c3-4c33-aa98-362c74a7fb13", Name: "Managed-Amplify-DefaultNoCookies",
			MaxTTL:  oneYear,
			Headers: headers(SelectWhitelist, "Accept", "Authorization", "CloudFront-Viewer-Country", "Host"),
			Cookies: none(), QueryStrings: all(),
			EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
		}, {
			ID: "1c6db51a-a33f-469a-8245-dae26771f530", Name: "Managed-Amplify-ImageOptimization",
			MaxTTL:  oneYear,
			Headers: headers(SelectWhitelist, "Accept", "Authorization", "Host"),
			Cookies: none(), QueryStrings: all(),
			EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
		}, {
			ID: "7e5fad67-ee98-4ad0-b05a-394999eefc1a", Name: "Managed-Amplify-StaticContent",
			MaxTTL:  oneYear,
			Headers: headers(SelectWhitelist, "Authorization", "Host"),
			Cookies: none(), QueryStrings: none(),
			EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
		}}
}

// cloudFrontHeaders2022 are the CloudFront-generated headers released
// through June 2022, which AllViewerAndCloudFrontHeaders-2022-06 adds.
var cloudFrontHeaders2022 = [...]string{
	"CloudFront-Forwarded-Proto",
	"CloudFront-Is-Android-Viewer", "CloudFront-Is-Desktop-Viewer", "CloudFront-Is-IOS-Viewer",
	"CloudFront-Is-Mobile-Viewer", "CloudFront-Is-SmartTV-Viewer", "CloudFront-Is-Tablet-Viewer",
	"CloudFront-Viewer-Address", "CloudFront-Viewer-ASN", "CloudFront-Viewer-City",
	"CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Name", "CloudFront-Viewer-Country-Region",
	"CloudFront-Viewer-Country-Region-Name", "CloudFront-Viewer-Http-Version",
	"CloudFront-Viewer-Latitude", "CloudFront-Viewer-Longitude", "CloudFront-Viewer-Metro-Code",
	"CloudFront-Viewer-Postal-Code", "CloudFront-Viewer-Time-Zone", "CloudFront-Viewer-TLS",
}

func managedOriginRequestPolicies() []*OriginRequestPolicy {
	return []*OriginRequestPolicy{{
		ID: "216adef6-5c7f-47e4-b989-5492eafa07d3", Name: "Managed-AllViewer",
		Headers: Selection{Behavior: SelectAllViewer}, Cookies: all(), QueryStrings: all(),
	}, {
		ID: "33f36d7e-f396-46d9-90e0-52428a34d9dc", Name: "Managed-AllViewerAndCloudFrontHeaders-2022-06",
		Headers: headers(SelectAllViewerAndWhitelistCloudFront, cloudFrontHeaders2022[:]...),
		Cookies: all(), QueryStrings: all(),
	}, {
		ID: "b689b0a8-53d0-40ab-baf2-68738e2966ac", Name: "Managed-AllViewerExceptHostHeader",
		Headers: headers(SelectAllExcept, "Host"), Cookies: all(), QueryStrings: all(),
	}, {
		ID: "59781a5b-3903-41f3-afcb-af62929ccde1", Name: "Managed-CORS-CustomOrigin",
		Headers: headers(SelectWhitelist, "Origin"), Cookies: none(), QueryStrings: none(),
	}, {
		ID: "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", Name: "Managed-CORS-S3Origin",
		Headers:      headers(SelectWhitelist, "Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"),
		Cookies:      none(),
		QueryStrings: none(),
	}, {
		ID: "775133bc-15f2-49f9-abea-afb2e0bf67d2", Name: "Managed-Elemental-MediaTailor-PersonalizedManifests",
		Headers: headers(SelectWhitelist, "Origin", "Access-Control-Request-Headers",
			"Access-Control-Request-Method", "User-Agent", "X-Forwarded-For"),
		Cookies: none(), QueryStrings: all(),
	}, {
		ID: "bf0718e1-ba1e-49d1-88b1-f726733018ae", Name: "Managed-HostHeaderOnly",
		Headers: headers(SelectWhitelist, "Host"), Cookies: none(), QueryStrings: none(),
	}, {
		ID: "acba4595-bd28-49b8-b9fe-13317c0390fa", Name: "Managed-UserAgentRefererHeaders",
		Headers: headers(SelectWhitelist, "User-Agent", "Referer"), Cookies: none(), QueryStrings: none(),
	}}
}

// managedSecurityHeaders is the header set of SecurityHeadersPolicy: only
// X-Content-Type-Options overrides the origin's.
func managedSecurityHeaders() SecurityHeaders {
	return SecurityHeaders{
		ContentTypeOptions:      &OverridableHeader{Value: "nosniff", Override: true},
		FrameOptions:            &OverridableHeader{Value: "SAMEORIGIN"},
		ReferrerPolicy:          &OverridableHeader{Value: "strict-origin-when-cross-origin"},
		StrictTransportSecurity: &OverridableHeader{Value: "max-age=31536000"},
		XSSProtection:           &OverridableHeader{Value: "1; mode=block"},
	}
}

func simpleCORS() *CORSConfig {
	return &CORSConfig{AllowOrigins: []string{"*"}, AllowHeaders: []string{"*"}, AllowMethods: []string{"ALL"}, MaxAgeSec: -1}
}

func preflightCORS() *CORSConfig {
	return &CORSConfig{
		AllowOrigins:  []string{"*"},
		AllowHeaders:  []string{"*"},
		AllowMethods:  []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"},
		ExposeHeaders: []string{"*"},
		MaxAgeSec:     -1,
	}
}

func managedResponseHeadersPolicies() []*ResponseHeadersPolicy {
	return []*ResponseHeadersPolicy{{
		ID: "60669652-455b-4ae9-85a4-c4c02393f86c", Name: "Managed-SimpleCORS",
		CORS: simpleCORS(),
	}, {
		ID: "5cc3b908-e619-4b99-88e5-2cf7f45965bd", Name: "Managed-CORS-With-Preflight",
		CORS: preflightCORS(),
	}, {
		ID: "67f7725c-6f97-4210-82d7-5512b31e9d03", Name: "Managed-SecurityHeadersPolicy",
		Security: managedSecurityHeaders(),
	}, {
		ID: "e61eb60c-9c35-4d20-a928-2b84e02af89c", Name: "Managed-CORS-and-SecurityHeadersPolicy",
		CORS: simpleCORS(), Security: managedSecurityHeaders(),
	}, {
		ID: "eaab4381-ed33-4a86-88ca-d9558dc6cd63", Name: "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
		CORS: preflightCORS(), Security: managedSecurityHeaders(),
	}}
}

// isManagedName reports whether name is taken by a managed policy of any kind
// (custom policies may not reuse it).
func isManagedName(name string) bool {
	if strings.HasPrefix(name, "Managed-") {
		return true
	}
	_, c := ManagedCachePolicy(name)
	_, o := ManagedOriginRequestPolicy(name)
	_, r := ManagedResponseHeadersPolicy(name)
	return c || o || r
}
