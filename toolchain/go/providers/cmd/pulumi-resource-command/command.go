package main

import (
	"context"

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
				ck.fail(k, "%s is not supported by this build of the command plugin "+
					"(it returns no assets/archive outputs); remove %s", k, k)
			}
		}
	}
	return ck.in, ck.failures, nil
}

// commandDiff is the diff rule of both command types, as upstream's schema
// has it: only `triggers` is replaceOnChanges; a change to any other input
// is an in-place update (which re-runs update, else create).
func commandDiff(olds, news fw.PropertyMap, inputKeys []string) fw.DiffResult {
	olds, news = onlyKeys(olds, inputKeys), onlyKeys(news, inputKeys)
	return fw.DiffInputs(olds, news, fw.ReplaceKeys("triggers"))
}

func (c *command) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	return commandDiff(req.OldInputsOrState(), req.News, c.inputKeys()), nil
}

// withOutputs returns the state: the inputs as they came (secret inputs
// stay secret) plus stdout and stderr. As upstream (pulumi-go-provider's
// default secret flow: an output is secret only when the input of the same
// name is), stdout and stderr are never marked secret by the provider; a
// program that needs them secret asks with additionalSecretOutputs.
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

// Create runs `create` (if set) and records the resource. In preview
// nothing runs and stdout/stderr are unknown (as infer marks every output
// that mirrors no input on a create preview). A failed create returns only
// the error: no partial state, so nothing is recorded.
func (c *command) Create(ctx context.Context, req fw.CreateRequest) (string, fw.PropertyMap, error) {
	if req.Preview {
		return "", withOutputs(req.Inputs, c.inputKeys(), fw.Unknown(), fw.Unknown()), nil
	}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return "", nil, err
	}
	var res runResult
	if create, ok := fw.GetString(req.Inputs, "create"); ok {
		ctx, cancel := withTimeout(ctx, req.Timeout)
		defer cancel()
		if res, err = c.run(ctx, req.Common, create, "create", req.Inputs, nil); err != nil {
			return "", nil, err
		}
	}
	return id, withOutputs(req.Inputs, c.inputKeys(), fw.Str(res.Stdout), fw.Str(res.Stderr)), nil
}

// Update runs `update`, else `create`, else nothing; new stdout/stderr
// replace the old ones (kept when nothing runs). The previous outputs are
// passed as PULUMI_COMMAND_STDOUT/STDERR unless addPreviousOutputInEnv is
// false. In preview nothing runs; stdout/stderr are unknown when an input
// changed (infer's default: every output depends on every input). A
// failed update returns only the error, so the engine keeps the old state.
func (c *command) Update(ctx context.Context, req fw.UpdateRequest) (fw.PropertyMap, error) {
	olds := req.OldInputs
	if len(olds) == 0 {
		olds = req.OldState
	}
	keep := func(k resource.PropertyKey) resource.PropertyValue {
		if v, ok := req.OldState[k]; ok && !v.IsNull() {
			return v
		}
		return fw.Str("")
	}
	if req.Preview {
		changed := fw.ChangedKeys(onlyKeys(olds, c.inputKeys()), onlyKeys(req.News, c.inputKeys()))
		if len(changed) > 0 {
			return withOutputs(req.News, c.inputKeys(), fw.Unknown(), fw.Unknown()), nil
		}
		return withOutputs(req.News, c.inputKeys(), keep("stdout"), keep("stderr")), nil
	}
	cmd, key := "", ""
	if s, ok := fw.GetString(req.News, "update"); ok {
		cmd, key = s, "update"
	} else if s, ok := fw.GetString(req.News, "create"); ok {
		cmd, key = s, "create"
	}
	if key == "" {
		return withOutputs(req.News, c.inputKeys(), keep("stdout"), keep("stderr")), nil
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	res, err := c.run(ctx, req.Common, cmd, key, req.News, req.OldState)
	if err != nil {
		return nil, err
	}
	return withOutputs(req.News, c.inputKeys(), fw.Str(res.Stdout), fw.Str(res.Stderr)), nil
}

// Delete runs `delete` (if set) with the state's inputs and previous outputs.
func (c *command) Delete(ctx context.Context, req fw.DeleteRequest) error {
	del, ok := fw.GetString(req.State, "delete")
	if !ok {
		return nil
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	_, err := c.run(ctx, req.Common, del, "delete", req.State, req.State)
	return err
}
