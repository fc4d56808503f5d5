// The search compiled with -mavx512f (see src/CMakeLists.txt); chosen at run time.
#define QLM_SEARCH_NS avx512
#include "quant/group_search_impl.h"
