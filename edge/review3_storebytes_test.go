package edge

import (
	"strings"
	"testing"
)

// A reload may not raise cache.max_object_size above the store's budget, which is fixed at
// start (Options.StoreBytes, cmd/shoal's memory policy: below cache.memory for a small one):
// the store would refuse every object between the two after its fill said it stored it, as
// the memory policy's own fault did (TestMemoryPolicy_objectsUpToMaxObjectSizeStayCached).
// Up to the budget the reload goes through.
func TestNode_reloadKeepsMaxObjectSizeWithinTheStoresBudget(t *testing.T) {
	cfg := func(maxObject string) string {
		return strings.Replace(oneRoute(true, "http://127.0.0.1:9"), "max_object_size: 8MiB", "max_object_size: "+maxObject, 1)
	}
	n := startNode(t, cfg("8MiB"), Options{StoreBytes: 32 << 20})
	if err := reloadConfig(t, n, cfg("48MiB")); err == nil || !strings.Contains(err.Error(), "cache.max_object_size") {
		t.Errorf("reload to max_object_size 48MiB with a 32 MiB store: %v; want it refused, naming cache.max_object_size", err)
	}
	if got := n.rt.Load().cfg.Cache.MaxObjectSize; got != 8<<20 {
		t.Errorf("after the refused reload max_object_size is %s, want 8MiB", got)
	}
	if err := reloadConfig(t, n, cfg("32MiB")); err != nil {
		t.Errorf("reload to max_object_size 32MiB with a 32 MiB store: %v", err)
	}
}
