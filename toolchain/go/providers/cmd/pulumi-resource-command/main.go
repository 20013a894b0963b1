// Command pulumi-resource-command is the project's own plugin for the
// resources of the @pulumi/command npm package that the project uses:
// command:local:Command, command:remote:Command and
// command:remote:CopyToRemote.
//
// Semantics (following the upstream documentation):
//   - a change to triggers replaces the resource;
//   - a change to create, stdin or environment (and dir or interpreter for
//     local commands) runs update in place when update is set, else replaces
//     (the new create runs, then the old resource's delete);
//   - any other change (connection, update, delete, logging,
//     addPreviousOutputInEnv) only updates the state, nothing runs;
//   - delete runs on destroy and replacement with the old state's inputs;
//   - stdout and stderr are secret when create, update, stdin or environment
//     hold a secret; secret input values are masked in logs and errors;
//   - remote commands run as `sh -c COMMAND` over SSH; environment goes
//     through SSH setenv and a refusal fails the command;
//   - refresh (Read) returns the state unchanged.
package main

import (
	"fmt"
	"os"

	"consul-swarm/toolchain/providers/internal/framework"
)

// version is set at build time: -ldflags "-X main.version=1.2.1".
var version = "0.0.0-dev"

const (
	localCommandToken  = "command:local:Command"
	remoteCommandToken = "command:remote:Command"
	copyToRemoteToken  = "command:remote:CopyToRemote"
)

func newProvider() *framework.Provider {
	return &framework.Provider{
		Name:    "command",
		Version: version,
		Resources: map[string]framework.Resource{
			localCommandToken:  &command{remote: false},
			remoteCommandToken: &command{remote: true},
			copyToRemoteToken:  &copyToRemote{},
		},
	}
}

func main() {
	if err := framework.Main(newProvider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
