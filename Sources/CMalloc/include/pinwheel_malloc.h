#ifndef PINWHEEL_MALLOC_H
#define PINWHEEL_MALLOC_H

#include <stddef.h>

/// Bytes the C allocator has handed out and not yet freed (glibc's mallinfo2: in-use blocks in every arena plus
/// blocks mapped on their own). 0 where the allocator cannot say. Swift's Glibc module does not include malloc.h.
size_t pw_heap_bytes_in_use(void);

/// Gives the memory the allocator holds free back to the system (glibc's malloc_trim), so a long-running process's
/// resident memory follows what it uses rather than its peaks. Does nothing where the allocator cannot.
void pw_heap_release_free_memory(void);

#endif
