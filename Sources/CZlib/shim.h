// The system's zlib header, nothing of our own.
#include <zlib.h>
