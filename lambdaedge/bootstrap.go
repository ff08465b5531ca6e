package lambdaedge

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The workers' bootstraps, edgefront's own.
var (
	//go:embed bootstrap/node.mjs
	nodeBootstrap []byte
	//go:embed bootstrap/python.py
	pythonBootstrap []byte
)

// writeBootstraps writes the bootstraps to a directory of dir named after
// their content (a cache: a later start finds them in place) and returns
// their paths.
func writeBootstraps(dir string) (node, python string, err error) {
	sum := sha256.New()
	sum.Write(nodeBootstrap)
	sum.Write(pythonBootstrap)
	d := filepath.Join(dir, "edgefront-lambda-"+hex.EncodeToString(sum.Sum(nil))[:12])
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", "", fmt.Errorf("lambda@edge bootstraps: %w", err)
	}
	node, python = filepath.Join(d, "bootstrap.mjs"), filepath.Join(d, "bootstrap.py")
	for path, data := range map[string][]byte{node: nodeBootstrap, python: pythonBootstrap} {
		if b, err := os.ReadFile(path); err == nil && string(b) == string(data) {
			continue
		}
		tmp, err := os.CreateTemp(d, ".write-*")
		if err != nil {
			return "", "", fmt.Errorf("lambda@edge bootstraps: %w", err)
		}
		_, werr := tmp.Write(data)
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(tmp.Name())
			return "", "", fmt.Errorf("lambda@edge bootstraps: %w", err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return "", "", fmt.Errorf("lambda@edge bootstraps: %w", err)
		}
	}
	return node, python, nil
}
