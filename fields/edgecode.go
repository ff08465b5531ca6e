package fields

import "strings"

// This file is CloudFront's header rules for edge code, shared by
// CloudFront Functions (package edge) and Lambda@Edge (package lambdaedge):
// the CloudFront Developer Guide, "Restrictions on all edge functions",
// lists the headers edge functions never see and may not add, and those
// they may read but not add, change or remove, per event type.

// EdgeDisallowed reports whether edge code never sees a header (its name in
// lower case) and may not add it.
func EdgeDisallowed(lower string) bool {
	switch lower {
	case "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
		"trailer", "upgrade", "x-accel-buffering", "x-accel-charset", "x-accel-limit-rate", "x-accel-redirect",
		"x-cache", "x-forwarded-proto", "x-real-ip":
		return true
	}
	return strings.HasPrefix(lower, "x-amz-cf-") || strings.HasPrefix(lower, "x-amzn-") || strings.HasPrefix(lower, "x-edge-")
}

// EdgeReadOnly reports whether edge code running at event (viewer-request,
// origin-request, origin-response or viewer-response) may read a header
// (its name in lower case) but not add, change or remove it.
func EdgeReadOnly(event, lower string) bool {
	switch event {
	case "viewer-request":
		switch lower {
		case "content-length", "host", "transfer-encoding", "via":
			return true
		}
	case "origin-request":
		switch lower {
		case "accept-encoding", "content-length", "if-modified-since", "if-none-match", "if-range",
			"if-unmodified-since", "transfer-encoding", "via":
			return true
		}
	case "origin-response":
		switch lower {
		case "transfer-encoding", "via":
			return true
		}
	default:
		switch lower {
		case "content-encoding", "content-length", "transfer-encoding", "warning", "via":
			return true
		}
	}
	return false
}
