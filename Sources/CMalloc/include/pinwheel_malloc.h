#ifndef PINWHEEL_MALLOC_H
#define PINWHEEL_MALLOC_H

#include <stddef.h>

/// Bytes the C allocator has handed out and not yet freed (glibc's mallinfo2: in-use blocks in every arena plus
/// blocks mapped on their own). 0 where the allocator cannot say. Swift's Glibc module does not include malloc.h.
size_t pw_heap_bytes_in_use(void);

/// Gives the memory the allocator holds free back to the system (glibc's malloc_trim), so a long-running process's
/// resident memory follows what it uses rather than its peaks. Does nothing where the allocator cannot.
void pw_heap_release_free_memory(void);

/// Makes every thread allocate from one arena (glibc's M_ARENA_MAX), called first thing at start. glibc gives each
/// thread that allocates an arena of its own (up to eight per core), and a long-running controller's threads each
/// kept their own peak of freed but unreturned pages: three or four arenas of 5 to 8 MB where one suffices. Its
/// threads are few and allocate little at once, so sharing one costs no measurable time. Does nothing elsewhere.
void pw_heap_use_one_arena(void);

#endif
