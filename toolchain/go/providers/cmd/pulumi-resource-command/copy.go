package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	fw "consul-swarm/toolchain/providers/internal/framework"
)

// copyToRemote implements command:remote:CopyToRemote for file and text
// assets (archives are refused at Check). As upstream, the copy goes over
// SFTP: missing parent directories are created, a path asset copied onto an
// existing directory lands in it under its base name, a text asset onto a
// directory is an error, an existing file is overwritten. Update copies
// again only when the asset's hash or remotePath changed. Delete leaves the
// remote file in place.
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
		ck.fail("source", "source: archives are not supported by this build of the command plugin; copy a FileAsset or StringAsset")
	case !v.IsAsset():
		ck.fail("source", "source must be an asset")
	case !v.AssetValue().IsText() && !v.AssetValue().IsPath():
		ck.fail("source", "source must be a path-based file asset or a text asset")
	}
	return ck.in, ck.failures, nil
}

// Diff: only triggers replaces (schema: triggers is replaceOnChanges).
func (copyToRemote) Diff(_ context.Context, req fw.DiffRequest) (fw.DiffResult, error) {
	olds, news := onlyKeys(req.OldInputsOrState(), copyInputs), onlyKeys(req.News, copyInputs)
	return fw.DiffInputs(olds, news, fw.ReplaceKeys("triggers")), nil
}

// errNoSFTP is returned when the SSH server has no sftp subsystem.
type errNoSFTP struct {
	addr string
	err  error
}

func (e *errNoSFTP) Error() string {
	return fmt.Sprintf("CopyToRemote: the SSH server at %s has no sftp subsystem "+
		"(enable `Subsystem sftp` in sshd_config): %v", e.addr, e.err)
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
	red := newRedactor(secretsOf(inputs))
	status := func(s string) { common.Host.Status(ctx, fw.Info, common.URN, s) }
	client, cleanup, err := conn.dial(ctx, status)
	defer cleanup()
	if err != nil {
		return errors.New(red.mask(err.Error()))
	}
	defer client.Close()

	session, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("opening an SSH session on %s: %w", conn.addr(), err)
	}
	if err := session.RequestSubsystem("sftp"); err != nil {
		_ = session.Close()
		return &errNoSFTP{addr: conn.addr(), err: err}
	}
	w, err := session.StdinPipe()
	if err != nil {
		_ = session.Close()
		return err
	}
	r, err := session.StdoutPipe()
	if err != nil {
		_ = session.Close()
		return err
	}
	sc, err := sftp.NewClientPipe(r, w)
	if err != nil {
		_ = session.Close()
		return &errNoSFTP{addr: conn.addr(), err: err}
	}
	defer func() { _ = sc.Close(); _ = session.Close() }()

	if a.IsText() {
		err = sftpWriteText(sc, a.Text, dest)
	} else {
		err = sftpCopyFile(sc, a.Path, dest)
	}
	if err != nil {
		return fmt.Errorf("CopyToRemote to %s:%s: %w", conn.addr(), dest, err)
	}
	return nil
}

// remoteStat returns nil, nil when path does not exist.
func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	fi, err := sc.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	return fi, nil
}

func sftpWriteText(sc *sftp.Client, text, dest string) error {
	fi, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if fi != nil && fi.IsDir() {
		return fmt.Errorf("remote path %s is a directory; with a text asset, remotePath must be a file path", dest)
	}
	if err := sc.MkdirAll(path.Dir(dest)); err != nil {
		return fmt.Errorf("creating the parent directories of %s: %w", dest, err)
	}
	return sftpWrite(sc, dest, func(f *sftp.File) error {
		_, err := f.Write([]byte(text))
		return err
	})
}

func sftpCopyFile(sc *sftp.Client, src, dest string) error {
	local, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("reading the source file: %w", err)
	}
	defer local.Close()
	info, err := local.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return fmt.Errorf("source %s is a directory; copying directories (FileArchive) is not supported by this build of the command plugin", src)
	}
	fi, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	switch {
	case fi != nil && fi.IsDir():
		dest = path.Join(dest, filepath.Base(src))
	case fi == nil:
		if err := sc.MkdirAll(path.Dir(dest)); err != nil {
			return fmt.Errorf("creating the parent directories of %s: %w", dest, err)
		}
	}
	return sftpWrite(sc, dest, func(f *sftp.File) error {
		_, err := f.ReadFrom(local)
		return err
	})
}

func sftpWrite(sc *sftp.Client, dest string, write func(*sftp.File) error) error {
	f, err := sc.Create(dest)
	if err != nil {
		return fmt.Errorf("creating remote file %s: %w", dest, err)
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing remote file %s: %w", dest, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing remote file %s: %w", dest, err)
	}
	return nil
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

// assetHash is the asset's hash as the engine sent it, or computed when
// absent.
func assetHash(m fw.PropertyMap) string {
	a, ok := fw.GetAsset(m, "source")
	if !ok || a == nil {
		return ""
	}
	if a.Hash != "" {
		return a.Hash
	}
	cp := *a
	if err := cp.EnsureHash(); err != nil {
		return ""
	}
	return cp.Hash
}

// Update copies again only when the source's hash or remotePath changed,
// as upstream; any other change (connection, triggers without replace)
// only updates the state.
func (c copyToRemote) Update(ctx context.Context, req fw.UpdateRequest) (fw.PropertyMap, error) {
	outs := onlyKeys(req.News, copyInputs)
	if req.Preview {
		return outs, nil
	}
	oldPath, _ := fw.GetString(req.OldState, "remotePath")
	newPath, _ := fw.GetString(req.News, "remotePath")
	if assetHash(req.OldState) == assetHash(req.News) && oldPath == newPath {
		return outs, nil
	}
	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	if err := c.copy(ctx, req.Common, req.News); err != nil {
		return nil, err
	}
	return outs, nil
}
