package main

// GetProgramDependencies (used by `pulumi about` and the update metadata) wants the program's npm
// dependencies and their installed versions. Instead of shelling out to `npm ls` and parsing its
// output, we read package.json files: the direct dependencies from the program's package.json and
// the installed versions from node_modules, which is what npm itself would report.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type dependency struct{ Name, Version string }

// programDependencies lists direct dependencies (dependencies and devDependencies of the program's
// package.json), or, when transitive is set, every package installed under node_modules. A direct
// dependency that is not installed is listed with the version range from package.json, so the
// user still sees it.
func programDependencies(programDir string, transitive bool) ([]dependency, error) {
	var deps []dependency
	if transitive {
		deps = installedPackages(filepath.Join(programDir, "node_modules"))
	} else {
		manifest, err := readPackageJSON(filepath.Join(programDir, "package.json"))
		if err != nil {
			return nil, err
		}
		wanted := map[string]string{}
		for n, r := range manifest.DevDependencies {
			wanted[n] = r
		}
		for n, r := range manifest.Dependencies {
			wanted[n] = r
		}
		for name, rng := range wanted {
			version := rng
			if installed, err := readPackageJSON(filepath.Join(programDir, "node_modules", name, "package.json")); err == nil && installed.Version != "" {
				version = installed.Version
			}
			deps = append(deps, dependency{name, version})
		}
	}
	sort.Slice(deps, func(i, j int) bool {
		if deps[i].Name != deps[j].Name {
			return deps[i].Name < deps[j].Name
		}
		return deps[i].Version < deps[j].Version
	})
	return deps, nil
}

// installedPackages lists name@version of every package below a node_modules directory, including
// scoped (@scope/name) and nested (a/node_modules/b) ones, once per distinct name@version.
func installedPackages(nodeModules string) []dependency {
	seen := map[dependency]bool{}
	var out []dependency
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") { // .bin, .package-lock.json, .cache
				continue
			}
			path := filepath.Join(dir, name)
			if strings.HasPrefix(name, "@") {
				walk(path) // a scope directory holds packages
				continue
			}
			if info, err := readPackageJSON(filepath.Join(path, "package.json")); err == nil && info.Name != "" {
				d := dependency{info.Name, info.Version}
				if !seen[d] {
					seen[d] = true
					out = append(out, d)
				}
			}
			walk(filepath.Join(path, "node_modules"))
		}
	}
	walk(nodeModules)
	return out
}

func readPackageJSON(path string) (packageJSON, error) {
	var info packageJSON
	b, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(b, &info)
	return info, err
}
