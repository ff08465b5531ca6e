package main

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
)

// isLoopbackAddr reports whether the listen address addr (host:port) only
// accepts connections from this machine: an IP in 127.0.0.0/8 or ::1 (also
// IPv4-mapped), or the name localhost. An empty host (":9090") listens on
// every interface; other names are not resolved and count as reachable from
// elsewhere.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip.Unmap().IsLoopback()
}

// checkAdminExposure refuses an admin listener that others can reach while
// the control API accepts any signature: addr not loopback, no credentials,
// and insecure (--admin-insecure) not given. With insecure, it logs a
// warning instead. source says where addr came from, for the message.
func checkAdminExposure(addr, source string, creds map[string]string, insecure bool, log *slog.Logger) error {
	if addr == "" || isLoopbackAddr(addr) || len(creds) > 0 {
		return nil
	}
	if insecure {
		log.Warn("admin listener is reachable from other machines and unauthenticated (--admin-insecure): "+
			"anyone who reaches it can change distributions with the CloudFront API", "addr", addr)
		return nil
	}
	return fmt.Errorf("admin listener %s (%s) is not a loopback address and --control-credentials is not set: "+
		"anyone who reaches it could change where distributions send traffic (UpdateDistribution); "+
		"set --control-credentials KEYID:SECRET to require signed requests, "+
		"or --admin-insecure to serve it unauthenticated anyway (or listen on 127.0.0.1)", addr, source)
}

// adminSource names where the admin address came from: the --admin flag,
// or listen.admin in the configuration file.
func adminSource(f serveFlags) string {
	if f.set["admin"] || f.config == "" {
		return "--admin"
	}
	return "listen.admin in " + f.config
}

// handlePprof serves Go's profiles under /debug/pprof/ on mux. With
// credentials, a request must carry HTTP Basic authentication with one of
// the KEYID:SECRET pairs (what go tool pprof and curl -u send); without
// them, as for the control API, anyone reaching the admin listener may.
// /debug/pprof/cmdline is not served: the command line can hold
// --control-credentials.
func handlePprof(mux *http.ServeMux, creds map[string]string) {
	guard := func(h http.HandlerFunc) http.Handler {
		if len(creds) == 0 {
			return h
		}
		return basicAuth(creds, h)
	}
	mux.Handle("/debug/pprof/", guard(pprof.Index))
	mux.Handle("/debug/pprof/profile", guard(pprof.Profile))
	mux.Handle("/debug/pprof/symbol", guard(pprof.Symbol))
	mux.Handle("/debug/pprof/trace", guard(pprof.Trace))
}

// basicAuth lets requests through to h whose HTTP Basic user and password
// are a KEYID and its SECRET in creds; others get 401 with a challenge.
func basicAuth(creds map[string]string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if ok {
			want, known := creds[id]
			// Compare in constant time whether or not the key is known.
			if !known {
				want = "\x00" + secret
			}
			if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) == 1 && known {
				h.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="edgefront pprof", charset="UTF-8"`)
		http.Error(w, "401 Unauthorized: /debug/pprof/ needs HTTP Basic authentication with a --control-credentials KEYID:SECRET", http.StatusUnauthorized)
	})
}
