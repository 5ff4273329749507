package loadtest

import "time"

// Pacer places requests on the attack's fixed timeline. Due must never decrease as seq grows;
// it is called only from the attack's scheduler goroutine.
type Pacer interface {
	// Due is when request seq is due, as an offset from the start of the attack.
	Due(seq uint64) time.Duration
}

// ConstantPacer spaces requests evenly at Rate per second.
type ConstantPacer struct {
	Rate float64
}

// Due implements Pacer.
func (p ConstantPacer) Due(seq uint64) time.Duration {
	return time.Duration(float64(seq) * float64(time.Second) / p.Rate)
}

// BurstPacer keeps an average of Rate per second but releases requests Burst at a time, all
// due at the same instant: the shape of a cache stampede.
type BurstPacer struct {
	Rate  float64
	Burst int
}

// Due implements Pacer.
func (p BurstPacer) Due(seq uint64) time.Duration {
	burst := uint64(max(p.Burst, 1))
	first := seq / burst * burst
	return time.Duration(float64(first) * float64(time.Second) / p.Rate)
}
