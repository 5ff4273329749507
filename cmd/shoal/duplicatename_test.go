package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A second `shoal run` with a node.name the cluster already has ran as a one-node cluster that
// owned every key, logging "memberlist: Conflicting address" every second. It now exits 1 at
// start naming node.name, and the cluster keeps its two members. A node killed and started
// again under its name at its own addresses rejoins.
func TestCluster_duplicateNodeNameRefusedRestartRejoins(t *testing.T) {
	procs := startProcCluster(t, 2, objectOrigin(t))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gossip.key"), []byte("process-cluster-secret-0123456789"), 0o600)
	file := filepath.Join(dir, "dup.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`node: {name: node-1}
listen: {http: %q, admin: %q, peer: "127.0.0.1:0"}
log: {access: "off", level: warn}
cache: {memory: 64MiB}
cluster: {bind: %q, join: [%q], secret_file: gossip.key}
origins: {o: {servers: [{url: "http://127.0.0.1:1"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
`, testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t), procs[1].gossip)), 0o644)
	var stderr bytes.Buffer
	dup := exec.Command(testenv.ShoalBinary(t), "run", "-c", file)
	dup.Stderr = &stderr
	if err := dup.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- dup.Wait() }()
	select {
	case err := <-exited:
		if code := dup.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), `node.name "node-1"`) {
			t.Errorf("the duplicate node-1 exited %d (%v), stderr:\n%s\nwant 1 and node.name named", code, err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		dup.Process.Kill()
		<-exited
		t.Fatalf("the duplicate node-1 still runs after 20 s; stderr:\n%s", stderr.String())
	}
	for _, p := range procs {
		waitMetric(t, p, "shoal_edge_cluster_members", "2")
	}

	// node-2 crashes and is started again with its own file: same name, same addresses.
	procs[1].cmd.Process.Signal(syscall.SIGKILL)
	err := <-procs[1].exited
	procs[1].exited <- err // for the cleanup launchProcs registered
	again := exec.Command(procs[1].cmd.Path, procs[1].cmd.Args[1:]...)
	again.Stderr = &testLog{t: t, prefix: "node-2 again"}
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Process.Kill(); again.Wait() })
	waitHTTP(t, "http://"+procs[1].admin+"/readyz")
	for _, p := range procs {
		waitMetric(t, p, "shoal_edge_cluster_members", "2")
	}
}
