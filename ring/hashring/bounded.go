package hashring

// OwnerBounded is consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
// "Consistent Hashing with Bounded Loads", 2017): it walks key's owners in Owners order and
// returns the first node whose load is below c times mean, so a hot shard spills to the next
// node in Owners order instead of overloading its owner. load reports a node's current load
// (requests in flight, say) and is called from the caller's goroutine; mean is the average
// load across nodes. With c <= 1 or mean <= 0 the bound is off and the plain owner is returned.
// When every node is at capacity the plain owner is returned, so a key always has an answer.
func (r *Ring) OwnerBounded(key string, load func(node string) float64, mean float64, c float64) string {
	if r.Len() == 0 {
		return ""
	}
	if c <= 1 || mean <= 0 || load == nil {
		return r.Owner(key)
	}
	limit := c * mean
	owner, chosen := "", ""
	r.walk(key, func(name string) bool {
		if owner == "" {
			owner = name
		}
		if load(name) < limit {
			chosen = name
			return false
		}
		return true
	})
	if chosen == "" {
		return owner
	}
	return chosen
}
