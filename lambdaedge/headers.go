package lambdaedge

import (
	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/fields"
)

// This file is CloudFront's header rules for edge functions, kept in
// package fields for both runtimes.

// disallowed reports a header edge functions never see and may not add.
func disallowed(lower string) bool { return fields.EdgeDisallowed(lower) }

// readOnly reports a header a Lambda@Edge function of event type kind may
// read but not add, change or remove.
func readOnly(kind int, lower string) bool {
	return fields.EdgeReadOnly(config.LambdaEventTypes[kind], lower)
}
