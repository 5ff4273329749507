package loadtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -purge-token-file is read as the node reads purge.token_file and `shoal purge` reads
// --token-file: a regular file of at most 64 KiB holding a token. Failed before: a file of
// any size was read whole (a log named by mistake, or /dev/zero, until memory ran out) and
// sent as the bearer token; one holding only white space sent purges with an empty token.
func TestCommand_purgeTokenFileReadAsTheNodeReadsIt(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.token")
	blank := filepath.Join(dir, "blank.token")
	if err := os.WriteFile(big, []byte(strings.Repeat("t", 64<<10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blank, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{big: "may hold at most 64KiB", blank: "is empty"} {
		_, _, err := command(t, "", "attack", "-scenario", "purge-storm", "-base", "http://127.0.0.1:1",
			"-purge-admin", "http://127.0.0.1:1", "-purge-token-file", file, "-duration", "1ms")
		if err == nil || !strings.Contains(err.Error(), "-purge-token-file") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want a -purge-token-file error saying %q", filepath.Base(file), err, want)
		}
	}
}
