package lambdaedge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/edgefront/edgefront/config"
	"github.com/edgefront/edgefront/proxy"
)

// This file is the event CloudFront passes a Lambda@Edge function
// (CloudFront Developer Guide, "Lambda@Edge event structure": request
// events, response events) built from a proxy.Event.

// The event types, as config's LambdaViewerRequest….
const (
	viewerRequest  = config.LambdaViewerRequest
	originRequest  = config.LambdaOriginRequest
	originResponse = config.LambdaOriginResponse
	viewerResponse = config.LambdaViewerResponse
)

// Body limits of IncludeBody: what the function sees of a request body
// ("Restrictions on Lambda@Edge": the body is truncated at 40 KB for
// viewer requests and 1 MB for origin requests), and the largest
// generated response ("Quotas on Lambda@Edge").
const (
	viewerBodyLimit = 40 << 10
	originBodyLimit = 1 << 20
)

func bodyLimit(kind int) int {
	if kind == viewerRequest || kind == viewerResponse {
		return viewerBodyLimit
	}
	return originBodyLimit
}

type eventDoc struct {
	Records []record `json:"Records"`
}

type record struct {
	CF cfRecord `json:"cf"`
}

type cfRecord struct {
	Config   cfConfig    `json:"config"`
	Request  *cfRequest  `json:"request,omitempty"`
	Response *cfResponse `json:"response,omitempty"`
}

type cfConfig struct {
	DistributionDomainName string `json:"distributionDomainName"`
	DistributionID         string `json:"distributionId"`
	EventType              string `json:"eventType"`
	RequestID              string `json:"requestId"`
}

// headers are CloudFront's: by lower-case name, each value with the name
// as the viewer or origin spelled it.
type headers map[string][]keyValue

type keyValue struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

type cfRequest struct {
	ClientIP    string    `json:"clientIp"`
	Headers     headers   `json:"headers"`
	Method      string    `json:"method"`
	Querystring string    `json:"querystring"`
	URI         string    `json:"uri"`
	Origin      *cfOrigin `json:"origin,omitempty"`
	Body        *cfBody   `json:"body,omitempty"`
}

type cfBody struct {
	InputTruncated bool   `json:"inputTruncated"`
	Action         string `json:"action"`
	Encoding       string `json:"encoding"`
	Data           string `json:"data"`
}

type cfResponse struct {
	Status            string  `json:"status"`
	StatusDescription string  `json:"statusDescription"`
	Headers           headers `json:"headers"`
}

// headersOf returns h as the event's headers, leaving out the disallowed
// ones; host, when not "", is the Host header.
func headersOf(h http.Header, host string) headers {
	out := headers{}
	if host != "" {
		out["host"] = []keyValue{{Key: "Host", Value: host}}
	}
	for name, vs := range h {
		lower := strings.ToLower(name)
		if disallowed(lower) || lower == "host" {
			continue
		}
		for _, v := range vs {
			out[lower] = append(out[lower], keyValue{Key: name, Value: v})
		}
	}
	return out
}

// clientIP is the viewer's address of ev.
func clientIP(ev *proxy.Event) string {
	if ev.Request != nil {
		if ip, _, err := net.SplitHostPort(ev.Request.RemoteAddr); err == nil {
			return ip
		}
		return ev.Request.RemoteAddr
	}
	if or := ev.OriginRequest; or != nil {
		xff := or.Header.Get("X-Forwarded-For")
		if i := strings.LastIndexByte(xff, ','); i >= 0 {
			xff = xff[i+1:]
		}
		return strings.TrimSpace(xff)
	}
	return ""
}

// buildEvent returns the event of association a at kind for ev. With
// IncludeBody it reads the request's body up to the limit and puts back
// what it read, so that the request still has its whole body.
func buildEvent(ev *proxy.Event, a *config.LambdaAssociation, kind int) (*cfRecord, error) {
	rec := &cfRecord{Config: cfConfig{DistributionDomainName: ev.Distribution.DomainName, DistributionID: ev.Distribution.ID,
		EventType: config.LambdaEventTypes[kind], RequestID: ev.RequestID}}
	req := &cfRequest{ClientIP: clientIP(ev), Headers: headers{}}
	var body *io.Reader
	switch {
	case ev.OriginRequest != nil && (kind == originRequest || kind == originResponse):
		or := ev.OriginRequest
		req.Method, req.URI, req.Querystring = or.Method, or.Path, or.RawQuery
		host := or.Host
		if host == "" && ev.Origin != nil {
			host = ev.Origin.DomainName
		}
		req.Headers = headersOf(or.Header, host)
		if kind == originRequest && ev.Origin != nil {
			req.Origin = originOf(ev.Origin, or.ViewerHTTPS)
		}
		if or.Body != nil {
			body = &or.Body
		}
	case ev.Request != nil:
		r := ev.Request
		req.Method, req.URI, req.Querystring = r.Method, r.URL.EscapedPath(), r.URL.RawQuery
		req.Headers = headersOf(r.Header, r.Host)
		if a.IncludeBody && r.Body != nil && r.Body != http.NoBody {
			rc := io.Reader(r.Body)
			body = &rc
			defer func() { r.Body = readCloser{rc, r.Body} }()
		}
	}
	if a.IncludeBody && (kind == viewerRequest || kind == originRequest) {
		b := &cfBody{Action: "read-only", Encoding: "base64"}
		if body != nil {
			limit := bodyLimit(kind)
			all, err := io.ReadAll(io.LimitReader(*body, int64(limit)+1))
			if err != nil {
				return nil, err
			}
			*body = io.MultiReader(bytes.NewReader(all), *body) // the request keeps its whole body
			data := all
			if len(all) > limit {
				data, b.InputTruncated = all[:limit], true
			}
			b.Data = base64.StdEncoding.EncodeToString(data)
		}
		req.Body = b
	}
	rec.Request = req
	if kind == originResponse || kind == viewerResponse {
		rec.Response = &cfResponse{Status: strconv.Itoa(ev.Status), StatusDescription: http.StatusText(ev.Status), Headers: headersOf(ev.Header, "")}
	}
	return rec, nil
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

// marshalEvent returns the event document of rec.
func marshalEvent(rec *cfRecord) ([]byte, error) {
	return json.Marshal(eventDoc{Records: []record{{CF: *rec}}})
}
