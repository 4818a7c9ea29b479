#ifndef GREYOAK_CZLIB_SHIM_H
#define GREYOAK_CZLIB_SHIM_H
#include <zlib.h>
#endif
