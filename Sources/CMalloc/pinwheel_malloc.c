#include "pinwheel_malloc.h"

#if defined(__linux__)
#include <malloc.h>
#endif

size_t pw_heap_bytes_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 info = mallinfo2();
	return info.uordblks + info.hblkhd;
#else
	return 0;
#endif
}

void pw_heap_release_free_memory(void)
{
#if defined(__GLIBC__)
	malloc_trim(0);
#endif
}

void pw_heap_use_one_arena(void)
{
#if defined(__GLIBC__)
	mallopt(M_ARENA_MAX, 1);
#endif
}
