// epoll for the benchmark's load client (vfiod-bench): Swift's Glibc module leaves out <sys/epoll.h>.
#include <sys/epoll.h>
