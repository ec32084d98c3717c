// The system's CBLAS (OpenBLAS) and LAPACKE headers, nothing of our own.
#include <cblas.h>
#include <lapacke.h>
