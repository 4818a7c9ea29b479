#ifndef GREYOAK_CCSV_SHIM_H
#define GREYOAK_CCSV_SHIM_H
#include <stddef.h>
#include <csv.h>
#endif
