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

/// The first 32 KiB region of the WAL index (the `-shm` file) as SQLite itself mapped it for `db`, or NULL.
/// Assumes `db`'s main database is in WAL mode and `db` has read it once (so its file has the WAL index
/// open), and a VFS of version 2 or later (the unix one): `xShmMap` without `bExtend` returns SQLite's
/// existing mapping, which stays valid until `db` is closed. Going through SQLite, rather than opening the
/// `-shm` file separately, matters: closing any descriptor of that file drops every POSIX lock the process
/// holds on it, SQLite's included, and another process would then take the WAL index for abandoned.
static inline const volatile void *csqlite_wal_index(sqlite3 *db) {
    sqlite3_file *file = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file || !file->pMethods) return 0;
    if (file->pMethods->iVersion < 2 || !file->pMethods->xShmMap) return 0;
    void volatile *region = 0;
    if (file->pMethods->xShmMap(file, 0, 32768, 0, &region) != SQLITE_OK) return 0;
    return region;
}

#endif
