// Only the header matters: this file makes the directory a C target SwiftPM builds.
#include "bench_epoll.h"
