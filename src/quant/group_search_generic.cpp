// The search compiled for any x86-64 (or other) CPU.
#define QLM_SEARCH_NS generic
#include "quant/group_search_impl.h"
