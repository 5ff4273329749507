// Package disk is the cache's disk tier: response records in large append-only segment files
// under one directory, an in-memory index rebuilt from them at Open, TinyLFU admission and
// FIFO reclaim of the oldest segment with re-insertion of recently hit objects, checksums on
// every record, and a persisted ban log so a purge made while the node was down is applied
// before a loaded object is served.
//
// Why segments. One file per object (nginx proxy_cache) costs an inode, a create, and a
// directory walk per object at load, and eviction unlinks files one by one; an embedded
// store (bbolt, pebble) would add a module and write every body twice (log, then tree). A
// segment is written sequentially, reclaimed whole with one unlink (no fragmentation, no
// free-space map), and loaded by reading record headers only (in 1 MiB chunks, or a 4 KiB
// peek after a large record). Bodies sit
// contiguous in a segment, so a Handle can give HTTP/1.1 the file, offset and length for
// sendfile, and HTTP/2 a ReadAt served from the page cache.
//
// Why TinyLFU rather than S3-FIFO. S3-FIFO would write every candidate into a small
// probation queue first: on disk that is a write per one-hit wonder, the very I/O and flash
// wear admission is meant to avoid. A count-min sketch with a doorkeeper decides before
// anything is written. While the tier has room every Put is admitted; once full, a key is
// admitted only if Get or Touch has seen it at least Config.AdmitFrequency times recently.
//
// What holds. Records are checksummed (xxhash64): the header and metadata at load, the whole
// record on the first Get after a load. Sealed segments are fsynced before the next one
// opens, so only a segment that was being written at a crash can hold a torn record, and
// only past the last checkpoint the writer fsynced (every 64 MiB); such segments are listed,
// with that offset, in a synced file until the loader has verified every record past it and
// truncated the segment at its first bad one (so a second crash during the load still finds
// them). A reclaimed segment that Handles still read keeps only their records on disk.
// Failures of the directory (missing, read-only, full, EIO) switch the tier to disabled with
// one log line and the disabled gauge set: Get and Put then miss and drop, they never fail a
// request. The tier then probes the directory with backoff and, once it is usable again,
// reloads its index from it as a restart would (revive.go). Every method is safe for
// concurrent use.
package disk
