// The portable copy of the kernels: the compilation target's baseline instruction set.
#define TK_SUFFIX portable
#define TK_LEVEL TK_LEVEL_PORTABLE
#define TK_FUSED 0
#include "kernels_body.h"
