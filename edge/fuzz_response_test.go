package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/edgefront/edgefront/config"
)

// FuzzViewerResponseRoundTrip: a viewer-response function that returns the
// response as it got it changes neither the status nor a header nor a
// Set-Cookie line, whatever the origin sent (the response side of the
// event conversion, both ways).
func FuzzViewerResponseRoundTrip(f *testing.F) {
	fn := inline(f, "pass-response", config.FunctionRuntime1, "function handler(event) { return event.response; }")
	rt := runtimeFor(f, nil, fn)
	f.Add(200, "text/html", "id=7; Path=/; Secure", "a=1")
	f.Add(304, "", "", "")
	f.Add(399, "multi, value", "x=; Max-Age=0", "=; ;x")
	f.Fuzz(func(t *testing.T, status int, ctype, cookie1, cookie2 string) {
		if status < 200 || status > 399 {
			return
		}
		h := http.Header{"Content-Type": {ctype}, "Set-Cookie": {cookie1, cookie2}, "X-Multi": {ctype, cookie2}}
		before := h.Clone()
		got, err := rt.ViewerResponse(context.Background(), fn, testInfo, httptest.NewRequest("GET", "/", nil), status, h)
		if err != nil {
			if fe, ok := err.(*Error); ok && fe.Kind == ExecutionError {
				t.Skip() // a slow machine
			}
			t.Fatalf("%v", err)
		}
		if got != status {
			t.Fatalf("status %d, was %d", got, status)
		}
		for k, vs := range before {
			if !slices.Equal(h[k], vs) {
				t.Fatalf("%s: %q, was %q", k, h[k], vs)
			}
		}
	})
}
