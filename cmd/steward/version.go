package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

// buildVersion returns Steward's version and the VCS commit it was built
// from ("unknown" when the build recorded none).
func buildVersion() (ver, commit string) {
	ver, commit = version, "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if ver == "" {
			ver = "(devel)"
		}
		return ver, commit
	}
	if ver == "" {
		ver = info.Main.Version
	}
	if ver == "" {
		ver = "(devel)"
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "unknown" {
		commit += "-dirty"
	}
	return ver, commit
}

// printVersion is `steward version`.
func printVersion(args []string, stdout, stderr io.Writer) error {
	fs := newCommandFlags("version", "", stdout, stderr, nil)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ver, commit := buildVersion()
	fmt.Fprintf(stdout, "steward %s\ncommit  %s\ngo      %s %s/%s\n", ver, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
