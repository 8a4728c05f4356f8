#ifndef PINWHEEL_CGIT2_SHIM_H
#define PINWHEEL_CGIT2_SHIM_H
#include <git2.h>
/* git_repository_set_odb: a compacted cache clone gets a fresh object database. */
#include <git2/sys/repository.h>
#endif
