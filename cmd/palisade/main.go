// Command palisade secures containerized applications on Kubernetes across
// build, deploy and runtime. See `palisade --help`.
package main

import (
	"context"
	"os"

	"github.com/palisade-sec/palisade/internal/cli"
)

func main() {
	os.Exit(cli.Execute(context.Background(), os.Args[1:], cli.OSEnv()))
}
