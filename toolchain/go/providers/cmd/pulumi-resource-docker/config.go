package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"consul-swarm/toolchain/providers/internal/dockerapi"
	"consul-swarm/toolchain/providers/internal/framework"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Provider configuration keys, as the @pulumi/docker 4.11.2 SDK sends them
// (pulumi:providers:docker, or docker:KEY stack config for the default provider).
const (
	cfgHost         = "host"
	cfgCAMaterial   = "caMaterial"
	cfgCertMaterial = "certMaterial"
	cfgKeyMaterial  = "keyMaterial"
	cfgCertPath     = "certPath"
	cfgContext      = "context"
	cfgSSHOpts      = "sshOpts"
	cfgRegistryAuth = "registryAuth"
	cfgDaemonCheck  = "disableDockerDaemonCheck"
)

// settings is the parsed provider configuration.
type settings struct {
	host                   string
	ca, cert, key          string
	certPath               string
	disableDaemonCheck     bool
	ignoredRegistryAuth    bool
	configuredWithUnknowns bool
}

// getenv is os.Getenv, replaceable in tests.
var getenv = os.Getenv

// parseSettings reads the configuration, falling back to the same environment variables as the
// upstream provider: DOCKER_HOST, DOCKER_CA_MATERIAL, DOCKER_CERT_MATERIAL, DOCKER_KEY_MATERIAL,
// DOCKER_CERT_PATH. Values that are unknown (preview with computed config) are reported through
// configuredWithUnknowns and left empty.
func parseSettings(cfg framework.PropertyMap) (settings, error) {
	var s settings
	if framework.AnyUnknown(cfg, cfgHost, cfgCAMaterial, cfgCertMaterial, cfgKeyMaterial, cfgCertPath) {
		s.configuredWithUnknowns = true
	}
	str := func(key, env string) string {
		if v, ok := framework.GetString(cfg, key); ok && v != "" {
			return v
		}
		if env != "" {
			return getenv(env)
		}
		return ""
	}
	s.host = str(cfgHost, "DOCKER_HOST")
	if s.host == "" {
		s.host = dockerapi.DefaultHost
	}
	s.ca = str(cfgCAMaterial, "DOCKER_CA_MATERIAL")
	s.cert = str(cfgCertMaterial, "DOCKER_CERT_MATERIAL")
	s.key = str(cfgKeyMaterial, "DOCKER_KEY_MATERIAL")
	s.certPath = str(cfgCertPath, "DOCKER_CERT_PATH")

	if c := str(cfgContext, ""); c != "" {
		return s, fmt.Errorf("docker: the %q setting (docker contexts) is not supported by this provider; set %q instead", cfgContext, cfgHost)
	}
	if v := str(cfgSSHOpts, ""); v != "" && v != "[]" && v != "null" {
		return s, fmt.Errorf("docker: %q is not supported: this provider has no ssh:// transport", cfgSSHOpts)
	}
	if v := str(cfgRegistryAuth, ""); v != "" && v != "[]" && v != "null" {
		// The provider never pulls images, so registry credentials have no use.
		s.ignoredRegistryAuth = true
	}
	if v, ok := framework.GetBool(cfg, cfgDaemonCheck); ok {
		s.disableDaemonCheck = v
	} else if v := str(cfgDaemonCheck, ""); v == "true" {
		s.disableDaemonCheck = true
	}

	if s.cert != "" || s.key != "" {
		if s.cert == "" || s.key == "" {
			return s, errors.New("docker: certMaterial and keyMaterial must be given together")
		}
		if framework.Has(cfg, cfgCertPath) {
			return s, errors.New("docker: give either certPath or certMaterial/keyMaterial, not both")
		}
	} else if s.certPath != "" {
		// The directory layout of `docker --tlsverify`: ca.pem, cert.pem, key.pem.
		read := func(name string) (string, error) {
			b, err := os.ReadFile(filepath.Join(s.certPath, name))
			if err != nil {
				return "", fmt.Errorf("docker: certPath: %w", err)
			}
			return string(b), nil
		}
		var err error
		if s.ca == "" {
			if s.ca, err = read("ca.pem"); err != nil {
				return s, err
			}
		}
		if s.cert, err = read("cert.pem"); err != nil {
			return s, err
		}
		if s.key, err = read("key.pem"); err != nil {
			return s, err
		}
	}
	useTLS := s.ca != "" || s.cert != ""
	if _, err := dockerapi.ParseHost(s.host, useTLS); err != nil {
		return s, fmt.Errorf("docker: %w", err)
	}
	if useTLS {
		if _, err := dockerapi.TLSConfig(s.ca, s.cert, s.key); err != nil {
			return s, fmt.Errorf("docker: %w", err)
		}
	}
	return s, nil
}

// checkConfig validates the provider configuration and marks the TLS material secret so it is
// encrypted in the state.
func checkConfig(_ context.Context, _, news framework.PropertyMap) (framework.PropertyMap, []framework.CheckFailure, error) {
	out := framework.Copy(news)
	for _, k := range []string{cfgCAMaterial, cfgCertMaterial, cfgKeyMaterial} {
		if v, ok := out[resource.PropertyKey(k)]; ok && !v.IsNull() {
			out[resource.PropertyKey(k)] = framework.Secret(v)
		}
	}
	if framework.AnyUnknown(news) {
		return out, nil, nil
	}
	if _, err := parseSettings(news); err != nil {
		prop := cfgHost
		msg := err.Error()
		for _, k := range []string{cfgCertMaterial, cfgKeyMaterial, cfgCAMaterial, cfgCertPath, cfgContext, cfgSSHOpts} {
			if strings.Contains(msg, k) {
				prop = k
				break
			}
		}
		return out, []framework.CheckFailure{{Property: prop, Reason: msg}}, nil
	}
	return out, nil, nil
}

// clients holds the daemon client built from the provider configuration. One plugin process
// serves one provider instance, so one client suffices.
type clients struct {
	mu       sync.Mutex
	settings settings
	err      error
	client   *dockerapi.Client
	pinged   bool
}

func newClients() *clients {
	s, err := parseSettings(framework.PropertyMap{})
	return &clients{settings: s, err: err}
}

// configure records the provider configuration; the daemon is contacted on first use.
func (c *clients) configure(_ context.Context, cfg framework.PropertyMap) error {
	s, err := parseSettings(cfg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		c.client.Close()
	}
	c.settings, c.err, c.client, c.pinged = s, err, nil, false
	return err
}

// get returns the client, checking once that the daemon answers (unless
// disableDockerDaemonCheck is set).
func (c *clients) get(ctx context.Context) (*dockerapi.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if c.settings.configuredWithUnknowns {
		return nil, errors.New("docker: the provider configuration is not known yet (it depends on outputs of other resources)")
	}
	if c.client == nil {
		cl, err := dockerapi.New(dockerapi.Config{
			Host:      c.settings.host,
			CAPEM:     c.settings.ca,
			CertPEM:   c.settings.cert,
			KeyPEM:    c.settings.key,
			UserAgent: "pulumi-resource-docker/" + version,
		})
		if err != nil {
			return nil, fmt.Errorf("docker: %w", err)
		}
		c.client = cl
	}
	if !c.pinged && !c.settings.disableDaemonCheck {
		if _, err := c.client.APIVersion(ctx); err != nil {
			return nil, fmt.Errorf("docker: %w", err)
		}
		c.pinged = true
	}
	return c.client, nil
}
