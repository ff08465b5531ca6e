package demo

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// maxEchoBody is the largest request body /api/echo accepts.
const maxEchoBody = 1 << 20

// api is the demo API origin: an API Gateway stage at APIStage on the domain
// APIDomainName, with three routes.
type api struct {
	now func() time.Time
	mux *http.ServeMux
}

// newAPI returns the demo API origin's handler.
func newAPI() http.Handler {
	a := &api{now: time.Now, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET "+APIStage+"/api/time", a.time)
	a.mux.HandleFunc(APIStage+"/api/echo", a.echo)
	a.mux.HandleFunc("GET "+APIStage+"/api/hello", a.hello)
	// Every other path and method, a wrong method on a known path included,
	// is a route the stage does not have: 404, not ServeMux's 405.
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, message{"Not Found"})
	})
	return a
}

// message is API Gateway's error body.
type message struct {
	Message string `json:"message"`
}

// ServeHTTP checks the Host first, as API Gateway does: a stage answers only
// to its own domain name, so a proxy that forwards the viewer's Host (rather
// than the origin's domain name) gets 403 Forbidden.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Apigw-Requestid", requestID())
	if !strings.EqualFold(hostname(r.Host), APIDomainName) {
		w.Header().Set("X-Amzn-Errortype", "ForbiddenException")
		writeJSON(w, http.StatusForbidden, message{"Forbidden"})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// hostname returns host without its port.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// time answers the current time; the answer must never be cached.
func (a *api) time(w http.ResponseWriter, r *http.Request) {
	now := a.now().UTC()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		Time   string `json:"time"`
		Epoch  int64  `json:"epochMillis"`
		Origin string `json:"origin"`
	}{now.Format(time.RFC3339Nano), now.UnixMilli(), APIDomainName + APIStage})
}

// echoed is what /api/echo answers: the request as the origin received it.
type echoed struct {
	Method          string              `json:"method"`
	Path            string              `json:"path"`
	Query           map[string][]string `json:"query"`
	Headers         map[string][]string `json:"headers"`
	Body            string              `json:"body"`
	IsBase64Encoded bool                `json:"isBase64Encoded"`
}

// echo answers any method with the request it received: the method, the
// path (with the stage prefix the proxy added), the query, the headers
// (Host among them) and the body, base64-encoded when it is not UTF-8.
func (a *api) echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEchoBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, message{"Request Entity Too Large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, message{"Bad Request"})
		return
	}
	e := echoed{
		Method:  r.Method,
		Path:    r.URL.EscapedPath(),
		Query:   r.URL.Query(),
		Headers: r.Header.Clone(),
	}
	e.Headers["Host"] = []string{r.Host}
	if utf8.Valid(body) {
		e.Body = string(body)
	} else {
		e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, e)
}

// hello greets ?name=, or the world.
func (a *api) hello(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	w.Header().Set("Cache-Control", "max-age=60")
	writeJSON(w, http.StatusOK, message{"Hello, " + name + "!"})
}

// writeJSON writes v as an indented JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// requestID returns a fresh API Gateway-style request ID.
func requestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
