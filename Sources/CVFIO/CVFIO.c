// The request numbers live in include/CVFIO.h as static constants; this file only gives SwiftPM a
// translation unit to compile for the C target.
#include "CVFIO.h"
