#ifndef GREYOAK_CLIBPQ_SHIM_H
#define GREYOAK_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
