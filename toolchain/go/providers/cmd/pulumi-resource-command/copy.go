package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// copyToRemote implements command:remote:CopyToRemote for file and text
// assets (archives are not supported). The copy streams the content over
// an SSH exec session into `cat`, creating parent directories; a path asset
// copied onto an existing directory lands in it under its base name, as
// upstream. Delete leaves the remote file in place, as upstream.
type copyToRemote struct{ fw.Base }

func (copyToRemote) Check(_ context.Context, req fw.CheckRequest) (fw.PropertyMap, []fw.CheckFailure, error) {
	ck := &checker{in: fw.Copy(req.News)}
	ck.connection("connection", true)
	if !fw.Has(ck.in, "remotePath") {
		ck.fail("remotePath", "missing required property 'remotePath'")
	} else {
		ck.str(ck.in, "", "remotePath")
	}
	if v, ok := value(ck.in, "triggers"); ok && !v.IsArray() {
		ck.fail("triggers", "triggers must be a list")
	}
	switch v, ok := value(ck.in, "source"); {
	case !fw.Has(ck.in, "source"):
		ck.fail("source", "missing required property 'source'")
	case !ok:
		// unknown during preview
	case v.IsArchive():
		ck.fail("source", "archives are not supported by this build of the command plugin; copy a file asset")
	case !v.IsAsset():
		ck.fail("source", "source must be an asset")
	case !v.AssetValue().IsText() && !v.AssetValue().IsPath():
		ck.fail("source", "source must be a path-based file asset or a text asset")
	}
	return ck.in, ck.failures, nil
}

func (copyToRemote) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	olds, news := onlyKeys(req.OldInputsOrState(), copyInputs), onlyKeys(req.News, copyInputs)
	return fw.DiffInputs(olds, news, fw.ReplaceKeys("triggers")), nil
}

func (copyToRemote) copy(ctx context.Context, common fw.Common, inputs fw.PropertyMap) error {
	conn, err := connectionOf(inputs)
	if err != nil {
		return err
	}
	dest, ok := fw.GetString(inputs, "remotePath")
	if !ok || dest == "" {
		return fmt.Errorf("remotePath is required")
	}
	a, ok := fw.GetAsset(inputs, "source")
	if !ok {
		return fmt.Errorf("source must be an asset")
	}
	var content []byte
	kind, base := "text", ""
	if a.IsText() {
		content = []byte(a.Text)
	} else {
		kind, base = "file", filepath.Base(a.Path)
		if content, err = os.ReadFile(a.Path); err != nil {
			return fmt.Errorf("reading the source file: %w", err)
		}
	}
	script := fmt.Sprintf(`set -e
dest=%s
if [ -d "$dest" ]; then
  if [ %s = text ]; then
    echo "remote path $dest is a directory; with a text asset, remotePath must be a file path" >&2
    exit 1
  fi
  dest="$dest/"%s
else
  mkdir -p -- "$(dirname -- "$dest")"
fi
cat > "$dest"`, shellQuote(dest), kind, shellQuote(base))
	spec := runSpec{
		Command: script,
		Stdin:   string(content),
		Logging: "none",
		Secrets: secretsOf(inputs),
		What:    fmt.Sprintf("while copying to %s", dest),
	}
	status := func(s string) { common.Host.Status(ctx, fw.Info, common.URN, s) }
	_, err = runRemote(ctx, conn, spec, nil, nil, status)
	return err
}

func (c copyToRemote) Create(ctx context.Context, req fw.CreateRequest) (string, fw.PropertyMap, error) {
	outs := onlyKeys(req.Inputs, copyInputs)
	if req.Preview {
		return "", outs, nil
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	if err := c.copy(ctx, req.Common, req.Inputs); err != nil {
		return "", nil, err
	}
	id, err := resource.NewUniqueHex("", 8, 0)
	return id, outs, err
}

func (c copyToRemote) Update(ctx context.Context, req fw.UpdateRequest) (fw.PropertyMap, error) {
	olds := req.OldInputs
	if len(olds) == 0 {
		olds = req.OldState
	}
	outs := onlyKeys(req.News, copyInputs)
	changed := fw.ChangedKeys(onlyKeys(olds, []string{"remotePath", "source"}), onlyKeys(req.News, []string{"remotePath", "source"}))
	if len(changed) == 0 || req.Preview {
		return outs, nil
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	if err := c.copy(ctx, req.Common, req.News); err != nil {
		return nil, err
	}
	return outs, nil
}
