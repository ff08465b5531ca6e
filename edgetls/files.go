package edgetls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/edgefront/edgefront/config"
)

// sniSet is the certificates of files mode, indexed by the names they cover.
type sniSet struct {
	byName map[string]*tls.Certificate // lower-case DNS SANs, wildcards as "*.example.com"
	first  *tls.Certificate            // served when no name matches
}

// loadFiles reads every certificate pair; errors name the entry and field.
func loadFiles(files []config.CertificateFiles) (*sniSet, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("tls: certificates: mode %s needs at least one certFile/keyFile pair", config.TLSFiles)
	}
	s := &sniSet{byName: make(map[string]*tls.Certificate)}
	for i, f := range files {
		cert, err := loadPair(i, f)
		if err != nil {
			return nil, err
		}
		if s.first == nil {
			s.first = cert
		}
		for _, n := range cert.Leaf.DNSNames {
			n = strings.ToLower(n)
			if _, dup := s.byName[n]; !dup { // the first certificate for a name wins
				s.byName[n] = cert
			}
		}
	}
	return s, nil
}

// loadPair reads the i'th PEM chain and key; its errors name the entry and
// the field at fault.
func loadPair(i int, f config.CertificateFiles) (*tls.Certificate, error) {
	if f.CertFile == "" {
		return nil, fmt.Errorf("tls: certificates[%d].certFile: required", i)
	}
	if f.KeyFile == "" {
		return nil, fmt.Errorf("tls: certificates[%d].keyFile: required", i)
	}
	certPEM, err := os.ReadFile(f.CertFile)
	if err != nil {
		return nil, fmt.Errorf("tls: certificates[%d].certFile: %w", i, err)
	}
	keyPEM, err := os.ReadFile(f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: certificates[%d].keyFile: %w", i, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: certificates[%d]: %s with %s: %w", i, f.CertFile, f.KeyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tls: certificates[%d].certFile: %s: %w", i, f.CertFile, err)
		}
	}
	return &cert, nil
}

// get chooses by SNI: the certificate naming the server name exactly, else
// one whose wildcard covers its leftmost label, else the first certificate.
func (s *sniSet) get(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name != "" {
		if c, ok := s.byName[name]; ok {
			return c, nil
		}
		if i := strings.IndexByte(name, '.'); i > 0 {
			if c, ok := s.byName["*"+name[i:]]; ok {
				return c, nil
			}
		}
	}
	return s.first, nil
}
