/* vfio-opener: the lines it writes. stdout carries events for a test harness to parse, one per line, each
 * written with a single write(2) so that nothing waits in a stdio buffer; stderr carries errors. */
#define _GNU_SOURCE
#include "opener.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Writes all of `length` bytes of `text` to `fd`, retrying short writes and EINTR. */
static int write_all(int fd, const char *text, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        text += written;
        length -= (size_t)written;
    }
    return 0;
}

int opener_emit(const char *format, ...) {
    char line[4352];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(line, sizeof line - 1, format, arguments);
    va_end(arguments);
    if (length < 0) return -1;
    if ((size_t)length > sizeof line - 2) length = (int)(sizeof line - 2);
    line[length++] = '\n';
    return write_all(STDOUT_FILENO, line, (size_t)length);
}

int opener_fail(int code, const char *op, int err, const char *reason) {
    /* strerrorname_np (glibc 2.32) gives "ENOENT"; it returns NULL for numbers it does not know. */
    const char *name = reason;
    if (name == NULL) name = err != 0 ? strerrorname_np(err) : NULL;
    if (name == NULL) name = "unknown";
    char line[512];
    int length = snprintf(line, sizeof line, "error op=%s errno=%d (%s)\n", op, err, name);
    if (length > 0) (void)write_all(STDERR_FILENO, line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
    (void)opener_emit("exit reason=error code=%d", code);
    return code;
}

int64_t opener_now_ms(void) {
    struct timespec now;
    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}
