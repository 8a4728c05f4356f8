#ifndef PINWHEEL_CGIT2_SHIM_H
#define PINWHEEL_CGIT2_SHIM_H
#include <git2.h>
#endif
