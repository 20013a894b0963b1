package main

import (
	"context"
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// command implements command:local:Command and command:remote:Command.
type command struct {
	fw.Base
	remote bool
}

func (c *command) inputKeys() []string {
	if c.remote {
		return remoteCommandInputs
	}
	return localCommandInputs
}

func (c *command) runKeys() []string {
	if c.remote {
		return remoteRunKeys
	}
	return localRunKeys
}

func (c *command) Check(_ context.Context, req fw.CheckRequest) (fw.PropertyMap, []fw.CheckFailure, error) {
	ck := &checker{in: fw.Copy(req.News)}
	for _, k := range []string{"create", "update", "delete", "stdin"} {
		ck.str(ck.in, "", k)
	}
	ck.boolean(ck.in, "", "addPreviousOutputInEnv")
	ck.stringMap("environment")
	ck.logging()
	if v, ok := value(ck.in, "triggers"); ok && !v.IsArray() {
		ck.fail("triggers", "triggers must be a list")
	}
	if c.remote {
		ck.connection("connection", true)
	} else {
		ck.str(ck.in, "", "dir")
		ck.stringList("interpreter")
		for _, k := range []string{"assetPaths", "archivePaths"} {
			if fw.Has(ck.in, k) {
				ck.fail(k, "%s is not supported by this build of the command plugin", k)
			}
		}
	}
	return ck.in, ck.failures, nil
}

// commandDiff is the diff rule of both command types (see the package doc).
func commandDiff(olds, news fw.PropertyMap, inputKeys, runKeys []string) fw.DiffResult {
	olds, news = onlyKeys(olds, inputKeys), onlyKeys(news, inputKeys)
	hasUpdate := fw.Has(news, "update")
	run := map[string]bool{}
	for _, k := range runKeys {
		run[k] = true
	}
	return fw.DiffInputs(olds, news, func(k string) bool {
		switch {
		case k == "triggers":
			return true
		case run[k]:
			return !hasUpdate
		}
		return false
	})
}

func (c *command) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	return commandDiff(req.OldInputsOrState(), req.News, c.inputKeys(), c.runKeys()), nil
}

// outputsSecret: stdout/stderr are secret when a command, stdin or the
// environment is.
func outputsSecret(inputs fw.PropertyMap) bool {
	return fw.AnySecret(inputs, secretSourceKeys...)
}

func withOutputs(inputs fw.PropertyMap, keys []string, stdout, stderr resource.PropertyValue) fw.PropertyMap {
	outs := onlyKeys(inputs, keys)
	outs["stdout"] = stdout
	outs["stderr"] = stderr
	return outs
}

func (c *command) run(ctx context.Context, common fw.Common, cmd, cmdKey string, inputs, prev fw.PropertyMap) (runResult, error) {
	spec := specFrom(cmd, cmdKey, inputs, prev)
	log := func(s string) { common.Host.Status(ctx, fw.Info, common.URN, s) }
	if !c.remote {
		return runLocal(ctx, spec, log)
	}
	conn, err := connectionOf(inputs)
	if err != nil {
		return runResult{}, err
	}
	warn := func(s string) { common.Host.Log(ctx, fw.Warning, common.URN, s) }
	return runRemote(ctx, conn, spec, log, warn, log)
}

func (c *command) Create(ctx context.Context, req fw.CreateRequest) (string, fw.PropertyMap, error) {
	create, hasCreate := fw.GetString(req.Inputs, "create")
	secret := outputsSecret(req.Inputs)
	if req.Preview {
		out := fw.Str("")
		if fw.Has(req.Inputs, "create") {
			out = fw.Unknown()
		}
		return "", withOutputs(req.Inputs, c.inputKeys(), out, out), nil
	}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return "", nil, err
	}
	var res runResult
	if hasCreate {
		ctx, cancel := withTimeout(ctx, req.Timeout)
		defer cancel()
		if res, err = c.run(ctx, req.Common, create, "create", req.Inputs, nil); err != nil {
			return "", nil, err
		}
	}
	return id, withOutputs(req.Inputs, c.inputKeys(),
		fw.SecretIf(fw.Str(res.Stdout), secret), fw.SecretIf(fw.Str(res.Stderr), secret)), nil
}

func (c *command) Update(ctx context.Context, req fw.UpdateRequest) (fw.PropertyMap, error) {
	olds := req.OldInputs
	if len(olds) == 0 {
		olds = req.OldState
	}
	changed := fw.ChangedKeys(onlyKeys(olds, c.runKeys()), onlyKeys(req.News, c.runKeys()))
	secret := outputsSecret(req.News)
	if len(changed) == 0 || !fw.Has(req.News, "update") {
		// State only: keep the previous outputs.
		keep := func(k resource.PropertyKey) resource.PropertyValue {
			v, ok := req.OldState[k]
			if !ok {
				v = fw.Str("")
			}
			return fw.SecretIf(v, secret)
		}
		return withOutputs(req.News, c.inputKeys(), keep("stdout"), keep("stderr")), nil
	}
	if req.Preview {
		return withOutputs(req.News, c.inputKeys(), fw.Unknown(), fw.Unknown()), nil
	}
	update, ok := fw.GetString(req.News, "update")
	if !ok {
		return nil, errors.New("update must be a string")
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	res, err := c.run(ctx, req.Common, update, "update", req.News, req.OldState)
	if err != nil {
		return nil, err
	}
	return withOutputs(req.News, c.inputKeys(),
		fw.SecretIf(fw.Str(res.Stdout), secret), fw.SecretIf(fw.Str(res.Stderr), secret)), nil
}

func (c *command) Delete(ctx context.Context, req fw.DeleteRequest) error {
	del, ok := fw.GetString(req.State, "delete")
	if !ok || del == "" {
		return nil
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	_, err := c.run(ctx, req.Common, del, "delete", req.State, req.State)
	return err
}
