package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/edgefront/edgefront/config"
)

// TestDeployCompose: deploy/docker-compose.yaml is YAML compose reads —
// three nodes whose host names are their node names, each with its own
// storage, an external NATS server only in the external-nats profile —
// and the settings files it mounts are valid edgefront settings whose
// cluster block names those hosts.
func TestDeployCompose(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Hostname string   `yaml:"hostname"`
			Profiles []string `yaml:"profiles"`
			Ports    []string `yaml:"ports"`
			Volumes  []string `yaml:"volumes"`
			Command  []string `yaml:"command"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	data, err := os.ReadFile("../../deploy/docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	nodes := []string{"edge-a", "edge-b", "edge-c"}
	for _, name := range nodes {
		s, ok := compose.Services[name]
		switch {
		case !ok:
			t.Errorf("no service %s", name)
		case s.Hostname != name:
			t.Errorf("%s: hostname %q: the node is named after it", name, s.Hostname)
		case len(s.Profiles) > 0:
			t.Errorf("%s: in profiles %v, want always", name, s.Profiles)
		case !slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasPrefix(v, name+":") }):
			t.Errorf("%s: no storage of its own: %v", name, s.Volumes)
		case !slices.Contains(s.Command, "--config=/etc/edgefront/edgefront.yaml"):
			t.Errorf("%s: command %v", name, s.Command)
		}
	}
	if n := compose.Services["nats"]; !slices.Equal(n.Profiles, []string{"external-nats"}) {
		t.Errorf("nats: profiles %v, want [external-nats]", n.Profiles)
	}
	for _, file := range []string{"embedded.yaml", "external.yaml"} {
		cfg, err := config.Parse(file, readFile(t, filepath.Join("../../deploy/compose", file)))
		if err != nil {
			t.Fatalf("compose/%s: %v", file, err)
		}
		c := cfg.Cluster
		if !c.Enabled() || !c.Peers.Enabled() || c.Peers.Address("edge-b") != "edge-b:7946" {
			t.Errorf("compose/%s: cluster %+v", file, c)
		}
		if file == "external.yaml" && c.NATS.URL != "nats://nats:4222" {
			t.Errorf("compose/external.yaml: nats %+v", c.NATS)
		}
		for i, r := range c.NATS.Routes {
			if want := "nats://" + nodes[i] + ":6222"; r != want {
				t.Errorf("compose/%s: route %d is %s, want %s", file, i, r, want)
			}
		}
	}
}

// TestDeployKubernetes: deploy/kubernetes/edgefront.yaml is YAML
// Kubernetes reads — a StatefulSet behind a headless Service of its
// serviceName, as many replicas as the settings have routes, each route
// and peer address a pod's name under that Service — and the ConfigMap's
// settings are valid edgefront settings.
func TestDeployKubernetes(t *testing.T) {
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
		Spec struct {
			ClusterIP                string `yaml:"clusterIP"`
			PublishNotReadyAddresses bool   `yaml:"publishNotReadyAddresses"`
			ServiceName              string `yaml:"serviceName"`
			Replicas                 int    `yaml:"replicas"`
			PodManagementPolicy      string `yaml:"podManagementPolicy"`
			Ports                    []struct {
				Name string `yaml:"name"`
				Port int    `yaml:"port"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, "../../deploy/kubernetes/edgefront.yaml")))
	byKind := map[string][]object{}
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("kubernetes/edgefront.yaml: %v", err)
		}
		byKind[o.Kind] = append(byKind[o.Kind], o)
	}
	for kind, n := range map[string]int{"ConfigMap": 1, "Service": 2, "StatefulSet": 1, "PodDisruptionBudget": 1} {
		if len(byKind[kind]) != n {
			t.Fatalf("%d %s, want %d", len(byKind[kind]), kind, n)
		}
	}
	sts := byKind["StatefulSet"][0]
	var headless *object
	for i, s := range byKind["Service"] {
		if s.Metadata.Name == sts.Spec.ServiceName {
			headless = &byKind["Service"][i]
		}
	}
	if headless == nil || headless.Spec.ClusterIP != "None" || !headless.Spec.PublishNotReadyAddresses {
		t.Fatalf("the StatefulSet's service %q is not a headless Service publishing not-ready pods: %+v", sts.Spec.ServiceName, headless)
	}
	if sts.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("podManagementPolicy %q: JetStream needs a majority of the pods up together", sts.Spec.PodManagementPolicy)
	}
	cfg, err := config.Parse("edgefront.yaml", []byte(byKind["ConfigMap"][0].Data["edgefront.yaml"]))
	if err != nil {
		t.Fatalf("the ConfigMap's settings: %v", err)
	}
	c := cfg.Cluster
	if len(c.NATS.Routes) != sts.Spec.Replicas {
		t.Errorf("%d routes for %d replicas", len(c.NATS.Routes), sts.Spec.Replicas)
	}
	for i, r := range c.NATS.Routes {
		pod := fmt.Sprintf("%s-%d", sts.Metadata.Name, i)
		if want := "nats://" + pod + "." + headless.Metadata.Name + ":6222"; r != want {
			t.Errorf("route %d is %s, want %s", i, r, want)
		}
		if got, want := c.Peers.Address(pod), pod+"."+headless.Metadata.Name+":7946"; got != want {
			t.Errorf("%s's peer address %s, want %s", pod, got, want)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
