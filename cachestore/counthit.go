package cachestore

// CountHit counts o, found by Peek, as the Get that Peek stands in for would have: a hit in
// the store's counters and one for the eviction policy. It is for a caller that looked o up
// once through Peek and serves it without looking again (edge's HTTP/2 listener hands the
// object its probe found to the pipeline), so that a hit counts the same whichever way it
// was found. It takes no lock.
func (m *Memory) CountHit(o *Object) {
	m.hits.Add(1)
	o.touch()
}
