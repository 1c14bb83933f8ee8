// epoll for the load tool's bare-socket subscribers (Glibc's Swift module does not export it).
#pragma once
#include <sys/epoll.h>
