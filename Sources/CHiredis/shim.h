// hiredis from Debian's libhiredis-dev: its reply reader (RESP parsing) and command formatter.
#include <hiredis/hiredis.h>
