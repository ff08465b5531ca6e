package lambdaedge

import "strings"

// This file is CloudFront's header rules for edge functions (CloudFront
// Developer Guide, "Restrictions on all edge functions": disallowed and
// read-only headers). Package edge keeps the same lists for CloudFront
// Functions, unexported; they are repeated here rather than shared so that
// the two runtimes stay independent packages.

// disallowed reports a header edge functions never see and may not add.
func disallowed(lower string) bool {
	switch lower {
	case "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
		"trailer", "upgrade", "x-accel-buffering", "x-accel-charset", "x-accel-limit-rate", "x-accel-redirect",
		"x-cache", "x-forwarded-proto", "x-real-ip":
		return true
	}
	return strings.HasPrefix(lower, "x-amz-cf-") || strings.HasPrefix(lower, "x-amzn-") || strings.HasPrefix(lower, "x-edge-")
}

// readOnly reports a header a Lambda@Edge function of event type kind may
// read but not add, change or remove.
func readOnly(kind int, lower string) bool {
	var list []string
	switch kind {
	case viewerRequest:
		list = []string{"content-length", "host", "transfer-encoding", "via"}
	case originRequest:
		list = []string{"accept-encoding", "content-length", "if-modified-since", "if-none-match", "if-range",
			"if-unmodified-since", "transfer-encoding", "via"}
	case originResponse:
		list = []string{"transfer-encoding", "via"}
	default:
		list = []string{"content-encoding", "content-length", "transfer-encoding", "warning", "via"}
	}
	for _, h := range list {
		if h == lower {
			return true
		}
	}
	return false
}
