package control

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/edgefront/edgefront/config"
)

// This file holds the operations: one method per CloudFront API call, and
// the XML documents they answer with (encoded by xmlcodec.go, so element
// names are the field names).

// timeFormat is how the API prints timestamps (ISO 8601, UTC).
const timeFormat = "2006-01-02T15:04:05.000Z"

// List limits.
const (
	defaultMaxItems = 100
	maxMaxItems     = 1000
)

// invalidationBatch is the API's InvalidationBatch.
type invalidationBatch struct {
	Paths           *config.List[string]
	CallerReference string
}

// invalidationDoc is the API's Invalidation.
type invalidationDoc struct {
	Id                string
	Status            string
	CreateTime        string
	InvalidationBatch *invalidationBatch
}

// invalidationList is the API's InvalidationList.
type invalidationList struct {
	Marker      string
	NextMarker  string `json:",omitempty"`
	MaxItems    int
	IsTruncated bool
	Quantity    *int
	Items       []invalidationSummary
}

// invalidationSummary is the API's InvalidationSummary.
type invalidationSummary struct {
	Id         string
	CreateTime string
	Status     string
}

// distributionDoc is the API's Distribution.
type distributionDoc struct {
	Id                            string
	ARN                           string
	Status                        string
	LastModifiedTime              string
	InProgressInvalidationBatches int
	DomainName                    string
	ActiveTrustedSigners          *activeList
	ActiveTrustedKeyGroups        *activeList
	DistributionConfig            *config.DistributionConfig
}

// activeList is ActiveTrustedSigners / ActiveTrustedKeyGroups: edgefront
// reports none.
type activeList struct {
	Enabled  bool
	Quantity *int
	Items    []string
}

// distributionList is the API's DistributionList.
type distributionList struct {
	Marker      string
	NextMarker  string `json:",omitempty"`
	MaxItems    int
	IsTruncated bool
	Quantity    *int
	Items       []distributionSummary
}

// distributionSummary is the API's DistributionSummary.
type distributionSummary struct {
	Id                   string
	ARN                  string
	ETag                 string
	Status               string
	LastModifiedTime     string
	DomainName           string
	Aliases              *config.List[string]
	Origins              *config.List[config.OriginConfig]
	OriginGroups         *config.List[config.OriginGroupConfig]
	DefaultCacheBehavior *config.CacheBehaviorConfig
	CacheBehaviors       *config.List[config.CacheBehaviorConfig]
	CustomErrorResponses *config.List[config.CustomErrorResponse]
	Comment              string
	PriceClass           string
	Enabled              bool
	ViewerCertificate    *config.ViewerCertificate
	Restrictions         *config.Restrictions
	WebACLId             string
	HttpVersion          string
	IsIPV6Enabled        bool
	Staging              bool
	ConnectionMode       string `json:",omitempty"`
	AnycastIpListId      string `json:",omitempty"`
}

func (h *handler) createInvalidation(w http.ResponseWriter, r *http.Request) {
	d := h.distribution(w, r)
	if d == nil {
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(body)) == 0 {
		h.fail(w, &Error{Status: http.StatusBadRequest, Code: "MissingBody", Message: "this operation requires an InvalidationBatch body"})
		return
	}
	var batch invalidationBatch
	if err := decodeXML(xml.NewDecoder(bytes.NewReader(body)), "InvalidationBatch", &batch); err != nil {
		h.fail(w, inputErr(err))
		return
	}
	if batch.CallerReference == "" {
		h.fail(w, invalidArgument("InvalidationBatch.CallerReference is required"))
		return
	}
	if batch.Paths == nil {
		h.fail(w, invalidArgument("InvalidationBatch.Paths is required"))
		return
	}
	paths := batch.Paths.All()
	if len(paths) == 0 {
		h.fail(w, invalidArgument("InvalidationBatch.Paths must name at least one path"))
		return
	}
	if len(paths) > MaxPathsInProgress {
		h.fail(w, &Error{Status: http.StatusRequestEntityTooLarge, Code: "BatchTooLarge",
			Message: fmt.Sprintf("an invalidation batch may name at most %d paths, this one names %d", MaxPathsInProgress, len(paths))})
		return
	}
	norm := make([]string, len(paths))
	for i, p := range paths {
		n, err := normalizePath(p)
		if err != nil {
			h.fail(w, invalidArgument(err.Error()))
			return
		}
		norm[i] = n
	}
	now := h.o.Now()
	var inv *invalidation
	var created bool
	var err error
	if h.o.Invalidations != nil {
		inv, created, err = h.publishInvalidation(r.Context(), d.ID, batch.CallerReference, paths, now)
	} else {
		inv, created, err = h.inv.create(d.ID, batch.CallerReference, paths, now, h.o.InvalidationInProgress, func(*invalidation) {
			h.b.Invalidate(d.ID, norm, now)
		})
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	doc := invalidationXML(inv, now)
	if created {
		// A new batch is reported InProgress, as CloudFront does, however
		// soon it completes.
		doc.Status = StatusInProgress
		h.o.Logger.Info("invalidation created", "distribution", d.ID, "id", inv.id, "paths", len(paths))
	}
	w.Header().Set("Location", "http://"+r.Host+Version+"distribution/"+d.ID+"/invalidation/"+inv.id)
	h.write(w, http.StatusCreated, "Invalidation", doc)
}

func invalidationXML(inv *invalidation, now time.Time) *invalidationDoc {
	return &invalidationDoc{
		Id: inv.id, Status: inv.status(now), CreateTime: inv.created.UTC().Format(timeFormat),
		InvalidationBatch: &invalidationBatch{
			Paths:           &config.List[string]{Items: inv.paths},
			CallerReference: inv.callerReference,
		},
	}
}

func (h *handler) getInvalidation(w http.ResponseWriter, r *http.Request) {
	d := h.distribution(w, r)
	if d == nil {
		return
	}
	inv, ok := h.inv.get(d.ID, r.PathValue("inv"))
	if !ok {
		h.fail(w, &Error{Status: http.StatusNotFound, Code: "NoSuchInvalidation",
			Message: fmt.Sprintf("the specified invalidation %s does not exist", r.PathValue("inv"))})
		return
	}
	h.write(w, http.StatusOK, "Invalidation", invalidationXML(inv, h.o.Now()))
}

func (h *handler) listInvalidations(w http.ResponseWriter, r *http.Request) {
	d := h.distribution(w, r)
	if d == nil {
		return
	}
	marker, maxItems, e := pageParams(r)
	if e != nil {
		h.fail(w, e)
		return
	}
	now := h.o.Now()
	all := h.inv.list(d.ID)
	ids := make([]string, len(all))
	for i, inv := range all {
		ids[i] = inv.id
	}
	from, to, next := page(ids, marker, maxItems)
	out := &invalidationList{Marker: marker, MaxItems: maxItems, IsTruncated: next != "", NextMarker: next,
		Items: []invalidationSummary{}}
	for _, inv := range all[from:to] {
		out.Items = append(out.Items, invalidationSummary{Id: inv.id, CreateTime: inv.created.UTC().Format(timeFormat), Status: inv.status(now)})
	}
	h.write(w, http.StatusOK, "InvalidationList", out)
}

// pageParams reads Marker and MaxItems.
func pageParams(r *http.Request) (marker string, maxItems int, e *Error) {
	q := r.URL.Query()
	marker, maxItems = q.Get("Marker"), defaultMaxItems
	if s := q.Get("MaxItems"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return "", 0, invalidArgument(fmt.Sprintf("MaxItems %q is not a non-negative integer", s))
		}
		maxItems = min(n, maxMaxItems)
	}
	return marker, maxItems, nil
}

// page picks ids[from:to] after marker (an ID of the list; the first page
// when empty) and returns the next page's marker when there is one.
func page(ids []string, marker string, maxItems int) (from, to int, next string) {
	if marker != "" {
		from = len(ids)
		for i, id := range ids {
			if id == marker {
				from = i + 1
				break
			}
		}
	}
	to = min(from+maxItems, len(ids))
	if to < len(ids) && to > from {
		next = ids[to-1]
	}
	return from, to, next
}

func (h *handler) getDistribution(w http.ResponseWriter, r *http.Request) {
	d := h.distribution(w, r)
	if d == nil {
		return
	}
	w.Header().Set("ETag", d.ETag)
	h.write(w, http.StatusOK, "Distribution", h.distributionXML(d))
}

func (h *handler) distributionXML(d *config.Distribution) *distributionDoc {
	zero := 0
	return &distributionDoc{
		Id: d.ID, ARN: h.arn(d.ID), Status: "Deployed", LastModifiedTime: h.lastModified(d).UTC().Format(timeFormat),
		InProgressInvalidationBatches: h.inv.inProgress(d.ID, h.o.Now()),
		DomainName:                    d.DomainName,
		ActiveTrustedSigners:          &activeList{Quantity: &zero},
		ActiveTrustedKeyGroups:        &activeList{Quantity: &zero},
		DistributionConfig:            printable(d),
	}
}

// printable returns d's DistributionConfig as CloudFront prints it: what
// was configured, with the settings the API always prints (and the SDKs
// require back in UpdateDistribution) filled with the values in force.
func printable(d *config.Distribution) *config.DistributionConfig {
	data, err := json.Marshal(d.Raw)
	if err != nil { // cannot happen: plain fields only
		return d.Raw
	}
	dc := &config.DistributionConfig{}
	if err := json.Unmarshal(data, dc); err != nil {
		return d.Raw
	}
	if dc.Enabled == nil {
		dc.Enabled = &d.Enabled
	}
	for i := range dc.Origins.All() {
		oc := &dc.Origins.Items[i]
		o := d.Origins[oc.Id]
		if c := oc.CustomOriginConfig; c != nil && o != nil && o.Custom != nil {
			if c.HTTPPort == nil {
				c.HTTPPort = &o.Custom.HTTPPort
			}
			if c.HTTPSPort == nil {
				c.HTTPSPort = &o.Custom.HTTPSPort
			}
			if c.OriginProtocolPolicy == "" {
				c.OriginProtocolPolicy = o.Custom.ProtocolPolicy
			}
		}
		if os := oc.OriginShield; os != nil && os.Enabled == nil {
			os.Enabled = new(bool)
		}
	}
	fillBehavior(dc.DefaultCacheBehavior, d.Default)
	for i := range dc.CacheBehaviors.All() {
		if i < len(d.Behaviors) {
			fillBehavior(&dc.CacheBehaviors.Items[i], d.Behaviors[i])
		}
	}
	if r := dc.Restrictions; r != nil && r.GeoRestriction != nil && r.GeoRestriction.RestrictionType == "" {
		r.GeoRestriction.RestrictionType = "none"
	}
	return dc
}

func fillBehavior(bc *config.CacheBehaviorConfig, b *config.Behavior) {
	if bc == nil || b == nil {
		return
	}
	if bc.ViewerProtocolPolicy == "" {
		bc.ViewerProtocolPolicy = b.ViewerProtocolPolicy
	}
	if ts := bc.TrustedSigners; ts != nil && ts.Enabled == nil {
		ts.Enabled = boolPtr(ts.Len() > 0)
	}
	if tk := bc.TrustedKeyGroups; tk != nil && tk.Enabled == nil {
		tk.Enabled = boolPtr(tk.Len() > 0)
	}
	if fv := bc.ForwardedValues; fv != nil {
		if fv.QueryString == nil {
			fv.QueryString = new(bool)
		}
		if fv.Cookies == nil {
			fv.Cookies = &config.CookiePreference{Forward: "none"}
		}
	}
	if g := bc.GrpcConfig; g != nil && g.Enabled == nil {
		g.Enabled = new(bool)
	}
}

func boolPtr(b bool) *bool { return &b }

func (h *handler) arn(id string) string {
	return "arn:aws:cloudfront::" + h.o.AccountID + ":distribution/" + id
}

// lastModified is when d's configuration was last seen to change: the
// handler's start for a configuration it has always seen.
func (h *handler) lastModified(d *config.Distribution) time.Time {
	h.modMu.Lock()
	defer h.modMu.Unlock()
	s, ok := h.modified[d.ID]
	switch {
	case !ok:
		s = stamp{etag: d.ETag, at: h.start}
	case s.etag != d.ETag:
		s = stamp{etag: d.ETag, at: h.o.Now()}
	}
	h.modified[d.ID] = s
	return s.at
}

func (h *handler) getDistributionConfig(w http.ResponseWriter, r *http.Request) {
	d := h.distribution(w, r)
	if d == nil {
		return
	}
	w.Header().Set("ETag", d.ETag)
	h.write(w, http.StatusOK, "DistributionConfig", printable(d))
}

func (h *handler) listDistributions(w http.ResponseWriter, r *http.Request) {
	marker, maxItems, e := pageParams(r)
	if e != nil {
		h.fail(w, e)
		return
	}
	ds := h.b.Config().Distributions
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	from, to, next := page(ids, marker, maxItems)
	out := &distributionList{Marker: marker, MaxItems: maxItems, IsTruncated: next != "", NextMarker: next,
		Items: []distributionSummary{}}
	for _, d := range ds[from:to] {
		out.Items = append(out.Items, h.summary(d))
	}
	h.write(w, http.StatusOK, "DistributionList", out)
}

func (h *handler) summary(d *config.Distribution) distributionSummary {
	dc := d.Raw
	s := distributionSummary{
		Id: d.ID, ARN: h.arn(d.ID), ETag: d.ETag, Status: "Deployed", LastModifiedTime: h.lastModified(d).UTC().Format(timeFormat),
		DomainName: d.DomainName, Aliases: dc.Aliases, Origins: dc.Origins, OriginGroups: dc.OriginGroups,
		DefaultCacheBehavior: dc.DefaultCacheBehavior, CacheBehaviors: dc.CacheBehaviors, CustomErrorResponses: dc.CustomErrorResponses,
		Comment: dc.Comment, PriceClass: d.PriceClass, Enabled: d.Enabled, ViewerCertificate: dc.ViewerCertificate,
		Restrictions: dc.Restrictions, WebACLId: dc.WebACLId, HttpVersion: d.HTTPVersion, IsIPV6Enabled: d.IPv6,
		Staging: dc.Staging != nil && *dc.Staging, ConnectionMode: dc.ConnectionMode, AnycastIpListId: dc.AnycastIpListId,
	}
	if s.Aliases == nil {
		s.Aliases = &config.List[string]{}
	}
	if s.CacheBehaviors == nil {
		s.CacheBehaviors = &config.List[config.CacheBehaviorConfig]{}
	}
	if s.CustomErrorResponses == nil {
		s.CustomErrorResponses = &config.List[config.CustomErrorResponse]{}
	}
	return s
}

func (h *handler) updateDistribution(w http.ResponseWriter, r *http.Request) {
	d := h.distribution(w, r)
	if d == nil {
		return
	}
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" {
		h.fail(w, &Error{Status: http.StatusBadRequest, Code: "InvalidIfMatchVersion", Message: "the If-Match version is missing or not valid for the distribution"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(body)) == 0 {
		h.fail(w, &Error{Status: http.StatusBadRequest, Code: "MissingBody", Message: "this operation requires a DistributionConfig body"})
		return
	}
	dc := &config.DistributionConfig{}
	if err := decodeXML(xml.NewDecoder(bytes.NewReader(body)), "DistributionConfig", dc); err != nil {
		h.fail(w, inputErr(err))
		return
	}

	cfg, err := h.change(r.Context(), nil, func(cur *overlay) (*overlay, error) {
		// Re-read under the change lock: another update may have won.
		d := h.find(d.ID)
		if d == nil {
			return nil, noSuchDistribution(r.PathValue("id"))
		}
		if ifMatch != d.ETag {
			return nil, &Error{Status: http.StatusPreconditionFailed, Code: "PreconditionFailed",
				Message: fmt.Sprintf("the If-Match version %s does not match the current version %s of the distribution", ifMatch, d.ETag)}
		}
		if old := d.Raw.CallerReference; old != "" && dc.CallerReference != old {
			return nil, &Error{Status: http.StatusBadRequest, Code: "IllegalUpdate",
				Message: fmt.Sprintf("the CallerReference cannot be changed (it is %q)", old)}
		}
		if e := h.checkAssociations(cur, d.Raw, dc); e != nil {
			return nil, e
		}
		replaces := ""
		for _, x := range h.b.Base().Distributions {
			if x.ID == d.ID {
				replaces = x.ETag
			}
		}
		next := cur.clone()
		next.dists[d.ID] = &apiDist{dc: dc, replaces: replaces}
		return next, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	var nd *config.Distribution
	for _, x := range cfg.Distributions {
		if x.ID == d.ID {
			nd = x
		}
	}
	if nd == nil {
		h.fail(w, &Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "the updated distribution is missing from the new configuration"})
		return
	}
	h.o.Logger.Info("distribution updated", "distribution", nd.ID, "etag", nd.ETag)
	w.Header().Set("ETag", nd.ETag)
	h.write(w, http.StatusOK, "Distribution", h.distributionXML(nd))
}

// functionARNs lists the FunctionARNs dc's behaviours associate.
func functionARNs(dc *config.DistributionConfig) []string {
	if dc == nil {
		return nil
	}
	var out []string
	bcs := dc.CacheBehaviors.All()
	if dc.DefaultCacheBehavior != nil {
		bcs = append([]config.CacheBehaviorConfig{*dc.DefaultCacheBehavior}, bcs...)
	}
	for _, bc := range bcs {
		for _, fa := range bc.FunctionAssociations.All() {
			out = append(out, fa.FunctionARN)
		}
	}
	return out
}

// checkAssociations refuses, as CloudFront does (InvalidFunctionAssociation),
// an association dc adds that names no function with a LIVE stage. One
// already in old (the DistributionConfig serving) is left to the
// configuration's rules, so a DistributionConfig copied from AWS without
// its functions can still be written back.
func (h *handler) checkAssociations(cur *overlay, old, dc *config.DistributionConfig) *Error {
	had := map[string]bool{}
	for _, arn := range functionARNs(old) {
		had[arn] = true
	}
	fns := cur.functionsOver(h.b.Base(), h.start)
	for _, arn := range functionARNs(dc) {
		if had[arn] {
			continue
		}
		_, name, _ := strings.Cut(arn, ":function/")
		if f, ok := fns[name]; !ok || f.live == nil {
			return &Error{Status: http.StatusBadRequest, Code: "InvalidFunctionAssociation",
				Message: fmt.Sprintf("%s names no published (LIVE) CloudFront Function", arn)}
		}
	}
	return nil
}

// updateErr maps a Backend.UpdateDistribution error to an API error:
// config.Errors are answered with the first of CloudFront's own error codes
// among them (TooManyCacheBehaviors, …), else as InvalidArgument, the
// message naming every problem.
func updateErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ce config.Errors
	if errors.As(err, &ce) {
		msgs := make([]string, len(ce))
		code := ""
		for i, x := range ce {
			msgs[i] = x.Field + ": " + x.Reason
			if code == "" {
				code = x.Code
			}
		}
		out := invalidArgument(strings.Join(msgs, "; "))
		if code != "" {
			out.Code = code
		}
		return out
	}
	return invalidArgument(err.Error())
}

// distribution returns the distribution the path names, or answers
// NoSuchDistribution and returns nil.
func (h *handler) distribution(w http.ResponseWriter, r *http.Request) *config.Distribution {
	id := r.PathValue("id")
	if d := h.find(id); d != nil {
		return d
	}
	h.fail(w, noSuchDistribution(id))
	return nil
}

func (h *handler) find(id string) *config.Distribution {
	cfg := h.b.Config()
	if cfg == nil {
		return nil
	}
	for _, d := range cfg.Distributions {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func noSuchDistribution(id string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NoSuchDistribution", Message: fmt.Sprintf("the specified distribution %s does not exist", id)}
}

func invalidArgument(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: msg}
}

// inputErr maps a body decoding error to an API error.
func inputErr(err error) error {
	var ie *inputError
	if errors.As(err, &ie) {
		return &Error{Status: http.StatusBadRequest, Code: ie.code, Message: ie.msg}
	}
	return &Error{Status: http.StatusBadRequest, Code: "MalformedInput", Message: err.Error()}
}

// fail answers err: an *Error as it is, anything else as InternalError.
func (h *handler) fail(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: err.Error()}
	}
	writeError(w, w.Header().Get("X-Amz-Request-Id"), e)
}

// write answers status with doc as the XML element root.
func (h *handler) write(w http.ResponseWriter, status int, root string, doc any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	if err := encodeXML(enc, root, Namespace, reflect.ValueOf(doc)); err != nil {
		h.fail(w, fmt.Errorf("encode %s: %w", root, err))
		return
	}
	if err := enc.Flush(); err != nil {
		h.fail(w, fmt.Errorf("encode %s: %w", root, err))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
