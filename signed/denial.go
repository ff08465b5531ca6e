package signed

import "net/http"

// The error codes CloudFront answers a refused signed request with, and
// their messages.
const (
	// MissingKey: no Key-Pair-Id parameter and no CloudFront-Key-Pair-Id
	// cookie (or an empty one).
	MissingKey = "MissingKey"
	// InvalidKey: the key pair ID is not in a key group the behaviour
	// trusts, nor a key pair of a trusted signer.
	InvalidKey = "InvalidKey"
	// MalformedSignature: the signature is missing or not base64.
	MalformedSignature = "MalformedSignature"
	// MalformedPolicy: the policy is not base64 or not a valid policy
	// statement, or neither Expires nor Policy is given.
	MalformedPolicy = "MalformedPolicy"
	// AccessDenied: the signature does not verify, or the policy does not
	// allow this request (expired, not yet valid, other IP, other URL).
	AccessDenied = "AccessDenied"
)

// message returns CloudFront's message for an error code.
func message(code string) string {
	switch code {
	case MissingKey:
		return "Missing Key-Pair-Id query parameter or cookie value"
	case InvalidKey:
		return "Unknown Key"
	case MalformedSignature:
		return "Could not unencode Signature"
	case MalformedPolicy:
		return "Malformed Policy"
	}
	return "Access denied"
}

// ContentType is the Content-Type of a Denial's body.
const ContentType = "text/xml"

// Denial is a refused signed request: what to answer the viewer.
type Denial struct {
	Status  int    // always 403 Forbidden
	Code    string // MissingKey, InvalidKey, MalformedSignature, MalformedPolicy, AccessDenied
	Message string // CloudFront's message for Code, e.g. "Access denied"
	// Reason says why, for logs and tests; it is not sent to the viewer.
	Reason string
}

func deny(code, reason string) *Denial {
	return &Denial{Status: http.StatusForbidden, Code: code, Message: message(code), Reason: reason}
}

// Body returns CloudFront's XML error document:
// <?xml version="1.0" encoding="UTF-8"?><Error><Code>…</Code><Message>…</Message></Error>
// (no trailing newline; the codes and messages need no escaping).
func (d *Denial) Body() []byte {
	b := make([]byte, 0, 160)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`...)
	b = append(b, d.Code...)
	b = append(b, `</Code><Message>`...)
	b = append(b, d.Message...)
	return append(b, `</Message></Error>`...)
}

// Error makes a Denial an error: "AccessDenied: Access denied (expired …)".
func (d *Denial) Error() string {
	s := d.Code + ": " + d.Message
	if d.Reason != "" {
		s += " (" + d.Reason + ")"
	}
	return s
}
