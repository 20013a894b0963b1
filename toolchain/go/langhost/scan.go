package main

// Finding the provider plugins a program needs.
//
// An npm package that wraps a Pulumi provider says so in its package.json:
//
//	"pulumi": { "resource": true, "name": "random", "version": "4.21.1" }
//
// (name and version are optional for @pulumi/* packages: they default to the package name without
// the scope and to the package version). The engine asks the language host for this list before
// running the program, so it can load, or complain about, the right plugins. Like upstream, we look
// at every package.json below a node_modules directory under the program directory, but do not
// descend into nested policy packs: their plugins are not the program's.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// packageJSON holds the package.json fields this host reads.
type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
		// Parameterized packages (e.g. generated from a Terraform provider) carry the base plugin in
		// name/version and their own identity here. Value is base64 in JSON; []byte decodes it.
		Parameterization          *parameterizationJSON `json:"parameterization"`
		ExtensionParameterization *parameterizationJSON `json:"extensionParameterization"`
	} `json:"pulumi"`
}

type parameterizationJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Value   []byte `json:"value"`
}

func (p *parameterizationJSON) toRPC() *pulumirpc.PackageParameterization {
	if p == nil {
		return nil
	}
	return &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
}

// scanResult is what a walk of the program directory found.
type scanResult struct {
	packages []*pulumirpc.PackageDependency
	// sdkVersions maps each installed @pulumi/pulumi package.json to its version: two different
	// major versions in one program usually mean trouble, so the caller warns about it.
	sdkVersions map[string]string
	// problems are directories that could not be read and packages that declare a plugin but not
	// its name or version. They do not stop the scan: one broken package should not hide the
	// plugins of all others.
	problems []error
}

// pluginFromPackage returns the plugin dependency a package.json declares, or nil if it declares
// none.
func pluginFromPackage(info packageJSON) (*pulumirpc.PackageDependency, error) {
	if !info.Pulumi.Resource {
		return nil, nil
	}
	name := info.Pulumi.Name
	if name == "" {
		// Only first-party packages may leave the plugin name implicit.
		rest, ok := strings.CutPrefix(info.Name, "@pulumi/")
		if !ok || rest == "" {
			return nil, fmt.Errorf("package %q has pulumi.resource=true but no pulumi.name", info.Name)
		}
		name = rest
	}
	ver := info.Pulumi.Version
	if ver == "" {
		ver = info.Version
	}
	if ver == "" {
		return nil, fmt.Errorf("package %q declares a plugin without a version", info.Name)
	}
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver // the engine's plugin versions are v-prefixed semver
	}
	return &pulumirpc.PackageDependency{
		Name:             name,
		Kind:             "resource",
		Version:          ver,
		Server:           info.Pulumi.Server,
		Parameterization: info.Pulumi.Parameterization.toRPC(),
		Extension:        info.Pulumi.ExtensionParameterization.toRPC(),
	}, nil
}

// scanPlugins walks dir and collects plugin dependencies from node_modules package.json files.
func scanPlugins(dir string) scanResult {
	res := scanResult{sdkVersions: map[string]string{}}
	seen := map[string]bool{} // by resolved path: npm workspaces and pnpm use symlinks, and they can loop
	dup := map[string]bool{}  // name@version already reported
	abs, err := filepath.Abs(dir)
	if err != nil {
		res.problems = append(res.problems, err)
		return res
	}
	walkForPlugins(abs, false, seen, dup, &res)
	sort.Slice(res.packages, func(i, j int) bool {
		a, b := res.packages[i], res.packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	return res
}

func walkForPlugins(dir string, inNodeModules bool, seen, dup map[string]bool, res *scanResult) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		res.problems = append(res.problems, err)
		return
	}
	if seen[real] {
		return
	}
	seen[real] = true

	entries, err := os.ReadDir(dir)
	if err != nil {
		res.problems = append(res.problems, err)
		return
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(path) // follows the link
			if err != nil {
				// A dangling link (e.g. a removed workspace package) is not worth failing over.
				continue
			}
			isDir = st.IsDir()
		}
		switch {
		case isDir:
			if e.Name() == ".git" || isPolicyPack(path) {
				continue
			}
			walkForPlugins(path, inNodeModules || filepath.Base(dir) == "node_modules", seen, dup, res)
		case inNodeModules && e.Name() == "package.json":
			readPluginPackage(path, dup, res)
		}
	}
}

func readPluginPackage(path string, dup map[string]bool, res *scanResult) {
	b, err := os.ReadFile(path)
	if err != nil {
		res.problems = append(res.problems, err)
		return
	}
	var info packageJSON
	if err := json.Unmarshal(b, &info); err != nil {
		// node_modules holds test fixtures and templates whose package.json need not be valid JSON;
		// such a file cannot declare a plugin, so it is skipped without a word.
		return
	}
	if info.Name == "@pulumi/pulumi" {
		res.sdkVersions[path] = info.Version
	}
	dep, err := pluginFromPackage(info)
	if err != nil {
		res.problems = append(res.problems, fmt.Errorf("%s: %w", path, err))
		return
	}
	if dep == nil {
		return
	}
	key := dep.Name + "@" + dep.Version
	if dep.Parameterization != nil {
		key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
	}
	if dup[key] {
		return
	}
	dup[key] = true
	res.packages = append(res.packages, dep)
}

// isPolicyPack reports whether dir is the root of a policy pack.
func isPolicyPack(dir string) bool {
	for _, name := range []string{"PulumiPolicy.yaml", "PulumiPolicy.yml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// sdkMajorConflict returns a warning when the program has @pulumi/pulumi copies of different
// major versions installed (two copies of the SDK in one process do not share state well).
func sdkMajorConflict(versions map[string]string) error {
	majors := map[string]string{} // major -> one path having it
	for path, v := range versions {
		major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
		majors[major] = path
	}
	if len(majors) <= 1 {
		return nil
	}
	var parts []string
	for major, path := range majors {
		parts = append(parts, fmt.Sprintf("%s.x at %s", major, path))
	}
	sort.Strings(parts)
	return errors.New("found incompatible versions of @pulumi/pulumi: " + strings.Join(parts, ", "))
}
