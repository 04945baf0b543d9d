#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer: Swift cannot import it.
/// Passing it to sqlite3_bind_text/blob makes SQLite copy the bytes before the call returns.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return (sqlite3_destructor_type)-1;
}

/// sqlite3_config is variadic: Swift cannot call it. Turns off SQLite's memory statistics, whose global
/// mutex every allocation on every connection would otherwise take (vfiod's threads use three
/// connections at once). Must run before SQLite initialises; returns SQLITE_MISUSE after that.
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
