// Package examples holds the example configurations; its tests keep them loadable as the
// schema in package conf evolves.
package examples

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// TestExamples_loadWithoutErrors loads every YAML file under this directory with conf.Load.
// Each file's directory is copied to a temp dir first so that relative secret_file and
// token_file names resolve, and "interface: eth0" becomes "interface: lo": conf checks that
// a VIP interface exists on this host, and a test machine or container may have no eth0,
// while lo always exists. Nothing else is changed.
func TestExamples_loadWithoutErrors(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d example files, want shoal.yaml and the three two-tier edges: %v", len(files), files)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			tmp := copyDir(t, filepath.Dir(file))
			path := filepath.Join(tmp, filepath.Base(file))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.ReplaceAll(string(data), "interface: eth0", "interface: lo"))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := conf.Load(path); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
		})
	}
}

// TestExamples_twoTierEdgesShareTheirSecrets checks the placeholders are read and the same on
// every edge: gossip and peer traffic only work when all nodes hold one secret.
func TestExamples_twoTierEdgesShareTheirSecrets(t *testing.T) {
	tmp := copyDir(t, "two-tier")
	var secret, token string
	for _, name := range []string{"edge-1", "edge-2", "edge-3"} {
		path := filepath.Join(tmp, name+".yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "interface: eth0", "interface: lo")), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := conf.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Node.Name != name || cfg.Cluster.Secret == "" || cfg.Purge.Token == "" {
			t.Fatalf("%s: node %q, secret %q, token %q", name, cfg.Node.Name, cfg.Cluster.Secret, cfg.Purge.Token)
		}
		if secret != "" && (cfg.Cluster.Secret != secret || cfg.Purge.Token != token) {
			t.Errorf("%s: secrets differ from edge-1", name)
		}
		secret, token = cfg.Cluster.Secret, cfg.Purge.Token
		if got := len(cfg.VIP.Addresses); got != 2 {
			t.Errorf("%s: %d VIPs, want 2", name, got)
		}
	}
}

// TestExamples_referenceNamesEveryKey keeps shoal.yaml complete: every yaml key of
// conf.Config must appear in it, set or commented out, so a new key fails here until it is
// documented.
func TestExamples_referenceNamesEveryKey(t *testing.T) {
	data, err := os.ReadFile("shoal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeFor[conf.Config](), "") {
		name := key[strings.LastIndex(key, ".")+1:]
		if !regexp.MustCompile(`(?m)^[ #-]*\{?` + regexp.QuoteMeta(name) + `:|[{,] *` + regexp.QuoteMeta(name) + `:`).Match(data) {
			t.Errorf("shoal.yaml does not mention %s", key)
		}
	}
}

// yamlKeys lists the dotted yaml keys of t's fields, descending into structs, pointers,
// slices and map values.
func yamlKeys(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		keys = append(keys, prefix+name)
		keys = append(keys, yamlKeys(f.Type, prefix+name+".")...)
	}
	return keys
}

// copyDir copies the regular files of dir into a temp dir and returns it.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	tmp := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tmp
}
