// CBLAS: OpenBLAS's CBLAS interface. Imported only by TomeLinalg.
#include <cblas.h>
