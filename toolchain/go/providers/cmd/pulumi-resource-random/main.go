// Command pulumi-resource-random is the project's own plugin for the
// resources of the @pulumi/random npm package that the project uses:
// RandomPassword, RandomBytes and RandomId. Every input change replaces the
// resource, as upstream does; generated values come from crypto/rand.
package main

import (
	"fmt"
	"os"

	"consul-swarm/toolchain/providers/internal/framework"
)

// version is set at build time: -ldflags "-X main.version=4.21.1".
var version = "0.0.0-dev"

func newProvider() *framework.Provider {
	return &framework.Provider{
		Name:    "random",
		Version: version,
		Resources: map[string]framework.Resource{
			passwordToken: &password{},
			bytesToken:    &randomBytes{},
			idToken:       &randomID{},
		},
	}
}

func main() {
	if err := framework.Main(newProvider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
