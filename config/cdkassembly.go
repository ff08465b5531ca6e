package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// This file is a CDK cloud assembly: the directory `cdk synth` writes
// (cdk.out), read through its manifest.json. Every stack artifact's
// template is read, and every AWS::CloudFront::Distribution in it becomes
// a distribution, exactly as a settings file naming the templates would
// have it (template + resource). Origin endpoints and credentials need such
// a settings file; the assembly alone serves the origins at their own
// domain names.

// assemblyManifest is the part of a cloud assembly's manifest.json read
// here.
type assemblyManifest struct {
	Artifacts map[string]struct {
		Type       string `json:"type"`
		Properties struct {
			TemplateFile string `json:"templateFile"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// isCloudAssembly reports whether path is a directory with a cloud
// assembly's manifest.json.
func isCloudAssembly(path string) bool {
	st, err := os.Stat(filepath.Join(path, "manifest.json"))
	return err == nil && st.Mode().IsRegular()
}

// loadCloudAssembly loads every distribution of the stacks of the cloud
// assembly in dir.
func loadCloudAssembly(dir string, in TemplateInputs) (*Config, error) {
	manifest := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(manifest)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var m assemblyManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, Errors{{File: manifest, Field: syntaxField, Reason: err.Error()}}
	}
	type entry struct {
		Template string `json:"template"`
		Resource string `json:"resource"`
	}
	var entries []entry
	stacks := make([]string, 0, len(m.Artifacts))
	for name, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" && a.Properties.TemplateFile != "" {
			stacks = append(stacks, name)
		}
	}
	slices.Sort(stacks)
	for _, name := range stacks {
		file := filepath.Join(dir, m.Artifacts[name].Properties.TemplateFile)
		ids, err := templateDistributionIDs(file)
		if err != nil {
			return nil, Errors{{File: manifest, Field: join(join("artifacts", name), "properties.templateFile"), Reason: err.Error()}}
		}
		for _, id := range ids {
			// Relative to the manifest, as a settings file beside it would say.
			entries = append(entries, entry{Template: m.Artifacts[name].Properties.TemplateFile, Resource: id})
		}
	}
	if len(entries) == 0 {
		return nil, Errors{{File: manifest, Field: "artifacts", Reason: "no stack of the cloud assembly has an AWS::CloudFront::Distribution"}}
	}
	settings, err := json.Marshal(map[string]any{"distributions": entries})
	if err != nil {
		return nil, err
	}
	return ParseWith(manifest, settings, in)
}

// templateDistributionIDs returns the logical IDs of the
// AWS::CloudFront::Distribution resources of the template file, sorted.
func templateDistributionIDs(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var t struct {
		Resources map[string]struct {
			Type string `json:"Type"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	var ids []string
	for id, r := range t.Resources {
		if r.Type == distributionResourceType {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
