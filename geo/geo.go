// Package geo finds a viewer's country and applies CloudFront's geographic
// restrictions, and computes the CloudFront-Viewer-* and CloudFront-Is-*
// request headers that cache and origin request policies can forward.
//
// CloudFront locates viewers with MaxMind's GeoIP databases; a Resolver reads
// the same format (.mmdb: GeoLite2-Country, GeoIP2-Country or -City). For
// local testing it can instead trust a CloudFront-Viewer-Country header sent
// by the client, or answer one fixed country.
package geo

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/edgefront/edgefront/config"
)

// BlockedMessage is the text of CloudFront's 403 error page for a viewer
// whose country the distribution's geographic restriction blocks.
const BlockedMessage = "The Amazon CloudFront distribution is configured to block access from your country."

// Options says where countries come from. Sources are tried in this order:
// the trusted header, the database, the fixed country.
type Options struct {
	// Database is the path of a MaxMind-format database (.mmdb); "" for none.
	Database string
	// TrustHeader takes the country from the request's
	// CloudFront-Viewer-Country header when it holds a country code. For
	// local testing only: any client can send it.
	TrustHeader bool
	// Country is the country of every viewer no other source locates
	// (ISO 3166-1 alpha-2, upper case); "" for none.
	Country string
	// ASNDatabase is the path of a MaxMind-format ASN database (such as
	// GeoLite2-ASN) for CloudFront-Viewer-ASN; "" for none (Database is
	// then asked, if it carries autonomous_system_number).
	ASNDatabase string
}

// Resolver finds viewers' countries. It is safe for concurrent use.
type Resolver struct {
	db          *maxminddb.Reader
	asn         *maxminddb.Reader
	trustHeader bool
	fixed       string
}

// New opens the database named in o, if any.
func New(o Options) (*Resolver, error) {
	if o.Country != "" && !IsCountryCode(o.Country) {
		return nil, fmt.Errorf("geo: country: %q is not an upper-case ISO 3166-1 alpha-2 code", o.Country)
	}
	r := &Resolver{trustHeader: o.TrustHeader, fixed: o.Country}
	if o.Database != "" {
		db, err := maxminddb.Open(o.Database)
		if err != nil {
			return nil, fmt.Errorf("geo: database: %w", err)
		}
		r.db = db
	}
	if o.ASNDatabase != "" {
		db, err := maxminddb.Open(o.ASNDatabase)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("geo: ASN database: %w", err)
		}
		r.asn = db
	}
	return r, nil
}

// Close releases the database.
func (r *Resolver) Close() error {
	if r == nil {
		return nil
	}
	var errs []error
	for _, db := range []*maxminddb.Reader{r.db, r.asn} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// Location is what CloudFront's location headers tell of a viewer; zero
// fields are unknown.
type Location struct {
	Country        string // ISO 3166-1 alpha-2
	CountryName    string // English
	Region         string // first-level ISO 3166-2 subdivision code, e.g. WA
	RegionName     string // English
	City           string // English
	PostalCode     string
	TimeZone       string // IANA, e.g. America/Los_Angeles
	MetroCode      uint   // United States only
	ASN            uint
	HasCoordinates bool
	Latitude       float64
	Longitude      float64
}

// cityRecord is the part of a GeoIP2/GeoLite2 City record (and of ASN
// databases) Locate reads.
type cityRecord struct {
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Subdivisions []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	Postal struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"postal"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
		MetroCode uint     `maxminddb:"metro_code"`
		TimeZone  string   `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	ASN uint `maxminddb:"autonomous_system_number"`
}

// Locate returns everything known of the viewer's location: the country as
// Country finds it, and from the databases the city, region, postal code,
// coordinates, metro code, time zone and autonomous system number, as far as
// they hold them (a Country database holds none of these; an ASN database
// only the ASN). A nil Resolver locates nobody.
func (r *Resolver) Locate(req *http.Request, ip net.IP) Location {
	if r == nil {
		return Location{}
	}
	loc := Location{Country: r.Country(req, ip)}
	addr := viewerAddr(req, ip)
	if !addr.IsValid() {
		return loc
	}
	addr = addr.Unmap()
	if r.db != nil {
		var rec cityRecord
		if err := r.db.Lookup(addr).Decode(&rec); err == nil {
			if rec.Country.ISOCode == loc.Country {
				loc.CountryName = rec.Country.Names["en"]
				if len(rec.Subdivisions) > 0 {
					loc.Region, loc.RegionName = rec.Subdivisions[0].ISOCode, rec.Subdivisions[0].Names["en"]
				}
				loc.City, loc.PostalCode = rec.City.Names["en"], rec.Postal.Code
				loc.TimeZone, loc.MetroCode = rec.Location.TimeZone, rec.Location.MetroCode
				if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
					loc.HasCoordinates = true
					loc.Latitude, loc.Longitude = *rec.Location.Latitude, *rec.Location.Longitude
				}
			}
			loc.ASN = rec.ASN
		}
	}
	if r.asn != nil {
		var rec struct {
			ASN uint `maxminddb:"autonomous_system_number"`
		}
		if err := r.asn.Lookup(addr).Decode(&rec); err == nil && rec.ASN != 0 {
			loc.ASN = rec.ASN
		}
	}
	return loc
}

// record is the part of a GeoIP2/GeoLite2 Country or City record read here.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country returns the viewer's country code (ISO 3166-1 alpha-2), or "" when
// it cannot be determined. ip is the viewer's address (nil: taken from
// req.RemoteAddr). A nil Resolver locates nobody.
func (r *Resolver) Country(req *http.Request, ip net.IP) string {
	if r == nil {
		return ""
	}
	if r.trustHeader && req != nil {
		if c := req.Header.Get(HeaderViewerCountry); IsCountryCode(c) {
			return c
		}
	}
	if r.db != nil {
		if c := r.lookup(viewerAddr(req, ip)); c != "" {
			return c
		}
	}
	return r.fixed
}

// lookup reads addr's country from the database: the country where the
// address is used, else the one where its network is registered.
func (r *Resolver) lookup(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	var rec record
	if err := r.db.Lookup(addr.Unmap()).Decode(&rec); err != nil {
		return ""
	}
	switch {
	case IsCountryCode(rec.Country.ISOCode):
		return rec.Country.ISOCode
	case IsCountryCode(rec.RegisteredCountry.ISOCode):
		return rec.RegisteredCountry.ISOCode
	}
	return ""
}

// viewerAddr is ip, else the host of req.RemoteAddr.
func viewerAddr(req *http.Request, ip net.IP) netip.Addr {
	if ip != nil {
		a, _ := netip.AddrFromSlice(ip)
		return a
	}
	if req == nil {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(req.RemoteAddr)
	return a
}

// Allowed reports whether a viewer in country may be served under gr. As at
// CloudFront, a viewer whose country cannot be determined ("") is served
// whatever the restriction ("If CloudFront can't determine a user's
// location, CloudFront serves the content").
func Allowed(gr config.GeoRestriction, country string) bool {
	if country == "" {
		return true
	}
	switch gr.Type {
	case "whitelist":
		return slices.Contains(gr.Countries, country)
	case "blacklist":
		return !slices.Contains(gr.Countries, country)
	}
	return true
}

// IsCountryCode reports whether s has the form of an ISO 3166-1 alpha-2
// code: two upper-case ASCII letters.
func IsCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// ErrNoDatabase is returned by Check when a distribution restricts countries
// but no source of countries is configured.
var ErrNoDatabase = errors.New("geo: a distribution restricts countries, but no database, trusted header or fixed country is configured")

// Check reports ErrNoDatabase when some distribution in ds has a geographic
// restriction that r cannot enforce because it locates nobody (every viewer
// would be served, as CloudFront does for unknown locations).
func (r *Resolver) Check(ds []*config.Distribution) error {
	if r != nil && (r.db != nil || r.trustHeader || r.fixed != "") {
		return nil
	}
	for _, d := range ds {
		if d.GeoRestriction.Type == "whitelist" || d.GeoRestriction.Type == "blacklist" {
			return fmt.Errorf("distribution %s: %w", d.ID, ErrNoDatabase)
		}
	}
	return nil
}
