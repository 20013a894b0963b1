// Command pulumi-resource-command is the project's own plugin for the
// resources of the @pulumi/command npm package that the project uses:
// command:local:Command, command:remote:Command and
// command:remote:CopyToRemote.
//
// Semantics (as upstream pulumi-command v1.2.1; see README.md):
//   - only a change to triggers replaces the resource (create the new one,
//     then delete the old, unless the program sets deleteBeforeReplace);
//   - a change to any other input is an in-place update, which runs update,
//     else create, else nothing;
//   - delete runs on destroy and replacement with the old state's inputs;
//   - addPreviousOutputInEnv (default true) passes the previous stdout and
//     stderr as PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR;
//   - outputs mirror the inputs' secrecy; stdout and stderr are never made
//     secret by the provider (use additionalSecretOutputs); the connection
//     is always secret. Secret input values are masked in logs and errors;
//   - remote commands are the SSH exec request (the login shell runs them);
//     environment goes through SSH setenv and a refusal fails the command,
//     a refused PULUMI_COMMAND_* is only a warning;
//   - CopyToRemote copies over SFTP;
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
