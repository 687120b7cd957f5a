#pragma once
// The process's memory allocator policy. Call once, first thing in main, before any thread starts.

namespace encore::node {

// glibc raises its mmap threshold to the size of every large block freed (up to 32 MiB), after
// which blocks that large come from the calling thread's arena and stay there when freed. A
// checkpointer serialises a snapshot of several MiB on each of its threads, so each partition's
// arena came to hold tens of MiB of free memory: about 250 B of what a waiting user seemed to
// cost at 200,000 users (docs/BENCHMARKS.md). A fixed threshold of 256 KiB maps such blocks and
// gives them back when freed; it costs an mmap per large block, which are rare. Left alone when
// GLIBC_TUNABLES sets glibc.malloc.mmap_threshold (the operator's choice wins).
void tune_allocator();

}  // namespace encore::node
