// Package buildinfo carries what the linker stamps into the binary: the
// release version and the source commit. Makefile sets them with -ldflags -X;
// they are written once at link time and never changed at run time.
package buildinfo

import "runtime"

// Stamped by the linker; see Makefile.
var (
	version = "dev"
	commit  = "unknown"
)

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information.
func Get() Info {
	return Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}
