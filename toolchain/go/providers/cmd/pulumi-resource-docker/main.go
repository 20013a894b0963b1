// Command pulumi-resource-docker is consul-swarm's own provider plugin for the resources of
// @pulumi/docker 4.11.2 that the project uses: Network, Volume and Container. It speaks the
// Docker Engine API directly (internal/dockerapi) and keeps the SDK's type tokens and property
// names, so programs written against @pulumi/docker run unchanged. Images are never pulled:
// they must already be on the Docker host.
//
// Build:
//
//	go build -trimpath -ldflags "-X main.version=4.11.2" -o pulumi-resource-docker ./cmd/pulumi-resource-docker
package main

import (
	"fmt"
	"os"
	"time"

	"consul-swarm/toolchain/providers/internal/framework"
)

// version is reported by GetPluginInfo; set it to the @pulumi/docker version the plugin stands
// in for with -ldflags "-X main.version=4.11.2".
var version = "0.0.0-dev"

// newProvider wires the resource types to one daemon client.
func newProvider() *framework.Provider {
	c := newClients()
	return &framework.Provider{
		Name:    "docker",
		Version: version,
		Resources: map[string]framework.Resource{
			networkToken:   &networkResource{c: c},
			volumeToken:    &volumeResource{c: c},
			containerToken: &containerResource{c: c, settle: time.Second},
		},
		Configure:   c.configure,
		CheckConfig: checkConfig,
	}
}

func main() {
	if err := framework.Main(newProvider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
