package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The module builds and vets on the systems an operator may try it on: Linux-only features
// (VIPs, the disk tier's hole punching and cachestat, network namespaces in tests) sit
// behind build tags, with an error that names the system at run time.
func TestBuild_otherSystemsBuildAndVet(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds take a minute")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ goos, verb string }{
		{"darwin", "build"},
		{"freebsd", "vet"},
	} {
		t.Run(tc.goos, func(t *testing.T) {
			cmd := exec.Command("go", tc.verb, "./...")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS="+tc.goos, "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s go %s ./...: %v\n%s", tc.goos, tc.verb, err, out)
			}
		})
	}
}
