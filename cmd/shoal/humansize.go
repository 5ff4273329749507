package main

import "fmt"

// humanSize prints n bytes in the largest binary unit that leaves at least 1 of it, with one
// decimal under 10 of the unit: "512 B", "3.5 MiB", "20 GiB". A fixed unit said "(0.0 GiB)"
// of a 40 MiB file system, which tells the operator nothing.
func humanSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%d B", n)
	case v < 10:
		return fmt.Sprintf("%.1f %s", v, units[i])
	}
	return fmt.Sprintf("%.0f %s", v, units[i])
}
