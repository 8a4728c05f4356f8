#ifndef PINWHEEL_HEAP_STATISTICS_H
#define PINWHEEL_HEAP_STATISTICS_H

#include <stddef.h>

/// Bytes the C allocator has handed out and not yet freed (glibc's mallinfo2: in-use blocks in every arena plus
/// blocks mapped on their own). 0 where the allocator cannot say. Swift's Glibc module does not include malloc.h.
size_t pw_heap_bytes_in_use(void);

#endif
