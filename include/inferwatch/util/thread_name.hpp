#pragma once

#include <pthread.h>

namespace inferwatch::util {

// Name the calling thread (at most 15 characters) for `top -H`, `ps -L`, perf and gdb.
inline void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace inferwatch::util
