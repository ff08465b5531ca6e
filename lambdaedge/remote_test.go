package lambdaedge_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/lambdaedge"
)

// lambdaAPI is a Lambda Invoke API (POST
// /2015-03-31/functions/{FunctionName}/invocations) that runs the
// functions of cfg in an Engine's workers: a real server for the real
// SDK client of the remote runner.
func lambdaAPI(t *testing.T, cfg *config.Config, eng *lambdaedge.Engine) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/")
		name, ok2 := strings.CutSuffix(rest, "/invocations")
		if r.Method != http.MethodPost || !ok || !ok2 {
			http.Error(w, `{"message":"not the Invoke API"}`, http.StatusNotFound)
			return
		}
		arn, _ := url.PathUnescape(name)
		fn := cfg.LambdaFunctions[arn]
		if fn == nil {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			http.Error(w, `{"message":"Function not found: `+arn+`"}`, http.StatusNotFound)
			return
		}
		payload, _ := io.ReadAll(r.Body)
		out, err := eng.Invoke(r.Context(), "remote", fn, payload)
		var fe *lambdaedge.FunctionError
		switch {
		case errors.As(err, &fe):
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			out, _ = json.Marshal(map[string]string{"errorType": fe.Type, "errorMessage": fe.Message})
		case err != nil:
			http.Error(w, `{"message":"`+err.Error()+`"}`, http.StatusInternalServerError)
			return
		}
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRemote: with lambdaEndpoint, a function the settings do not define
// is invoked through the Lambda Invoke API with the AWS SDK; the
// function's error (X-Amz-Function-Error) is 503 LambdaExecutionError.
func TestRemote(t *testing.T) {
	requireRuntimes(t)
	td, _ := filepath.Abs("testdata")
	local, err := config.Parse(filepath.Join(t.TempDir(), "local.yaml"), []byte(strings.NewReplacer("{{testdata}}", td, "{{web}}", "http://127.0.0.1:1", "{{api}}", "http://127.0.0.1:1").Replace(settings)))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := lambdaedge.New(context.Background(), local, lambdaedge.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pids := eng.WorkerPIDs()
		eng.Close()
		checkGone(t, pids)
	})
	api := lambdaAPI(t, local, eng)

	remoteSettings := "lambdaEndpoint: " + api.URL + "\n" + settings[strings.Index(settings, "distributions:"):]
	web, other := newOrigin(t, "web"), newOrigin(t, "api")
	e := newEdge(t, remoteSettings, web, other)
	tests := []struct {
		path, body, xcache string
		status             int
	}{
		{"/vr/generate", "made at the edge", "", 200},
		{"/vr/rewrite", "web /rewritten?from=lambda", "Miss from cloudfront", 200},
		{"/esm/x", "esm saw /esm/x", "", 200},
		{"/py/x", `"function": "python"`, "", 200},
		{"/vr/throw", "", "LambdaExecutionError from cloudfront", 503},
		{"/vr/status-700", "", "LambdaValidationError from cloudfront", 502},
	}
	for _, tt := range tests {
		r := e.do("GET", tt.path, "")
		if r.status != tt.status || !strings.Contains(r.body, tt.body) || (tt.xcache != "" && r.xcache() != tt.xcache) {
			t.Errorf("%s through the Invoke API: %d %q %q, want %d %q %q", tt.path, r.status, r.xcache(), r.body, tt.status, tt.xcache, tt.body)
		}
	}
}
