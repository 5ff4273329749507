package tlscert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// A certificate or key pointed at a device (/dev/zero) or a huge file was read whole by
// os.ReadFile at check, start and every reload, until the kernel killed the process. Both
// are now refused unless regular files within conf.MaxCertBytes.
func TestLoad_certificateFilesMustBeRegularAndSmall(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", conf.MaxCertBytes+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    conf.Certificate
		says string
	}{
		{conf.Certificate{Cert: big, Key: big}, "at most 4MiB"},
		{conf.Certificate{Cert: "/dev/zero", Key: "/dev/zero"}, "not a regular file"},
	} {
		_, err := Load([]conf.Certificate{tc.c})
		if err == nil || !strings.Contains(err.Error(), tc.c.Cert) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("cert %s: %v, want a refusal naming the file and saying %q", tc.c.Cert, err, tc.says)
		}
	}
}
