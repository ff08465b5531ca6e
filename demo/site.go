package demo

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// site is the demo site; each file becomes the object of the same path
// (without the "site/" prefix) in the demo bucket.
//
//go:embed site
var site embed.FS

// contentType returns the Content-Type of a site file by its extension. The
// list is explicit so the objects do not depend on the host's MIME database.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// The Cache-Control values the demo objects are stored with.
const (
	htmlCacheControl  = "max-age=60"
	assetCacheControl = "public, max-age=31536000, immutable"
)

// objectMeta returns the stored metadata (response headers) of the object
// key: its Content-Type and, except for the error page, its Cache-Control.
func objectMeta(key string, modified time.Time) map[string]string {
	meta := map[string]string{
		"Content-Type":  contentType(key),
		"Last-Modified": modified.UTC().Format(http.TimeFormat),
	}
	switch {
	case key == "404.html":
		// The custom error page carries no Cache-Control: its caching is
		// the error response's ErrorCachingMinTTL.
	case strings.HasPrefix(key, "assets/"):
		meta["Cache-Control"] = assetCacheControl
	default:
		meta["Cache-Control"] = htmlCacheControl
	}
	return meta
}

// seed creates the demo bucket in b and puts every file of the site in it,
// last modified at modified.
func seed(b *s3mem.Backend, modified time.Time) error {
	if err := b.CreateBucket(Bucket); err != nil {
		return fmt.Errorf("demo: creating bucket %s: %w", Bucket, err)
	}
	root, err := fs.Sub(site, "site")
	if err != nil {
		return fmt.Errorf("demo: site: %w", err)
	}
	return fs.WalkDir(root, ".", func(key string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, key)
		if err != nil {
			return fmt.Errorf("demo: site: %w", err)
		}
		if _, err := b.PutObject(Bucket, key, objectMeta(key, modified), bytes.NewReader(body), int64(len(body)), nil); err != nil {
			return fmt.Errorf("demo: putting s3://%s/%s: %w", Bucket, key, err)
		}
		return nil
	})
}
