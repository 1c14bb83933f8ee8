// Header-only: the target exists so Swift can import <sys/epoll.h>.
#include "CEpoll.h"
