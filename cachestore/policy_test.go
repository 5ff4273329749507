package cachestore

import "testing"

// TestFifo_keepsOrderAcrossBlocks pushes and pops in uneven runs across block boundaries.
func TestFifo_keepsOrderAcrossBlocks(t *testing.T) {
	var f fifo
	objs := make([]*Object, 3*fifoBlockLen+7)
	for i := range objs {
		objs[i] = &Object{Key: itoa(i), Body: make([]byte, i)}
	}
	next, popped := 0, 0
	for _, run := range []int{1, fifoBlockLen, 3, fifoBlockLen + 2, 2 * fifoBlockLen, 10, len(objs)} {
		for range run {
			if next < len(objs) {
				f.push(objs[next])
				next++
			}
		}
		for range run / 2 {
			if o := f.pop(); o != nil {
				if o != objs[popped] {
					t.Fatalf("pop %d = %q, want %q", popped, o.Key, objs[popped].Key)
				}
				popped++
			}
		}
		if f.len() != next-popped {
			t.Fatalf("len = %d, want %d", f.len(), next-popped)
		}
	}
	for o := f.pop(); o != nil; o = f.pop() {
		if o != objs[popped] {
			t.Fatalf("pop %d = %q, want %q", popped, o.Key, objs[popped].Key)
		}
		popped++
	}
	if popped != len(objs) || f.bytes != 0 || f.head != nil || f.tail != nil {
		t.Fatalf("after draining: popped %d of %d, bytes %d, head %p, tail %p", popped, len(objs), f.bytes, f.head, f.tail)
	}
}
