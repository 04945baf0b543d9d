/* vfio-opener --broker: fetching a lease's descriptors from vfiod's holder socket instead of opening
 * /dev/vfio or /dev/iommu (which the unprivileged uid it runs as cannot). One request line
 * {"assignment": ID, "generation": N}; one answer line with the descriptors attached (SCM_RIGHTS), in the
 * order of its "fds" array, or {"ok": false, "code": ...} with none. */
#define _GNU_SOURCE
#include "opener.h"

#include <CVFIO.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

int opener_drop_privileges(const struct opener_options *options) {
    if (!options->has_uid) return 0;
    gid_t gid = (gid_t)options->uid;
    if (setgroups(0, NULL) < 0) return opener_fail(OPENER_EXIT_BROKER, "setgroups", errno, NULL);
    if (setresgid(gid, gid, gid) < 0) return opener_fail(OPENER_EXIT_BROKER, "setgid", errno, NULL);
    if (setresuid((uid_t)options->uid, (uid_t)options->uid, (uid_t)options->uid) < 0)
        return opener_fail(OPENER_EXIT_BROKER, "setuid", errno, NULL);
    return 0;
}

/* Connects to the socket at `path`, of any length: through /proc/self/fd/<parent directory>/<name>. */
static int connect_socket(const char *path) {
    char directory[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash - path) >= sizeof directory) { errno = EINVAL; return -1; }
    memcpy(directory, path, (size_t)(slash - path));
    directory[slash - path] = '\0';
    int dir = open(directory[0] ? directory : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -1;
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    int length = snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/%s", dir, slash + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int result = -1;
    if (length > 0 && (size_t)length < sizeof address.sun_path && fd >= 0)
        result = connect(fd, (struct sockaddr *)&address, sizeof address);
    int saved = errno;
    close(dir);
    if (result < 0) {
        if (fd >= 0) close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Sends the request and reads the answer line into `line` with the descriptors of its first message. */
static int exchange(const struct opener_options *options, char *line, size_t size, int *received, int *count) {
    int fd = connect_socket(options->broker);
    if (fd < 0) return opener_fail(OPENER_EXIT_BROKER, "connect-broker", errno, NULL);
    char request[512];
    int length = snprintf(request, sizeof request, "{\"assignment\": \"%s\", \"generation\": %lld}\n",
                          options->assignment, (long long)options->generation);
    if (write(fd, request, (size_t)length) != length) {
        close(fd);
        return opener_fail(OPENER_EXIT_BROKER, "write-broker", errno, NULL);
    }
    /* The descriptors ride on the answer's first bytes; the rest of the line (if split) follows plainly. */
    long got = cvfio_receive_with_fds(fd, line, size - 1, received, count);
    size_t used = got > 0 ? (size_t)got : 0;
    while (got > 0 && memchr(line, '\n', used) == NULL && used < size - 1) {
        got = read(fd, line + used, size - 1 - used);
        if (got > 0) used += (size_t)got;
    }
    int saved = errno;
    close(fd);
    line[used] = '\0';
    if (got < 0) return opener_fail(OPENER_EXIT_BROKER, "read-broker", saved, NULL);
    if (memchr(line, '\n', used) == NULL) return opener_fail(OPENER_EXIT_BROKER, "read-broker", 0, "no-answer");
    return 0;
}

/* Copies the string value of "key":"…" found after `from` into `out`; returns a pointer past it or NULL. */
static const char *string_field(const char *from, const char *key, char *out, size_t size) {
    char pattern[32];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr(from, pattern);
    if (start == NULL) return NULL;
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size) return NULL;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return end;
}

/* Keeps each descriptor by its kind (the --device's cdev as the device; other cdevs are closed) and
 * prints `fd kind=K dev=MAJOR:MINOR ino=N` for each, what fstat(2) says it refers to. */
static int keep(const struct opener_options *options, struct opener_fds *fds, const char *line, const int *received, int count) {
    const char *cursor = strstr(line, "\"fds\":[");
    char kind[16], address[16];
    for (int i = 0; i < count; i++) {
        cursor = cursor ? string_field(cursor, "kind", kind, sizeof kind) : NULL;
        if (cursor == NULL) return opener_fail(OPENER_EXIT_BROKER, "read-broker", 0, "fds-mismatch");
        address[0] = '\0';
        const char *next = strstr(cursor, "\"kind\":");
        const char *has_address = strstr(cursor, "\"address\":");
        if (has_address != NULL && (next == NULL || has_address < next)) string_field(cursor, "address", address, sizeof address);
        struct stat info;
        if (fstat(received[i], &info) < 0) return opener_fail(OPENER_EXIT_BROKER, "fstat", errno, NULL);
        if (opener_emit("fd kind=%s dev=%u:%u ino=%llu%s%s", kind, major(info.st_dev), minor(info.st_dev),
                        (unsigned long long)info.st_ino, address[0] ? " address=" : "", address) < 0)
            return opener_fail(OPENER_EXIT_EVENT_LOOP, "write-stdout", errno, NULL);
        int *slot = strcmp(kind, "iommufd") == 0 ? &fds->iommufd : strcmp(kind, "group") == 0 ? &fds->group
                  : strcmp(kind, "container") == 0 ? &fds->container
                  : (strcmp(kind, "device") == 0 && strcmp(address, options->device) == 0) ? &fds->device : NULL;
        if (slot != NULL && *slot < 0) *slot = received[i];
        else close(received[i]);
    }
    return 0;
}

int opener_fetch_from_broker(const struct opener_options *options, struct opener_fds *fds) {
    char line[8192];
    int received[CVFIO_SOCKET_MAX_FDS];
    int count = 0;
    int code = exchange(options, line, sizeof line, received, &count);
    if (code != 0) return code;
    if (strstr(line, "\"ok\":true") == NULL) {
        char refusal[64] = "unknown";
        string_field(line, "code", refusal, sizeof refusal);
        for (int i = 0; i < count; i++) close(received[i]);
        opener_emit("refused code=%s", refusal);
        return opener_fail(OPENER_EXIT_BROKER, "broker", 0, refusal);
    }
    code = keep(options, fds, line, received, count);
    if (code != 0) return code;
    int cdev = fds->iommufd >= 0;
    if (cdev ? fds->device < 0 : (fds->group < 0 || fds->container < 0))
        return opener_fail(OPENER_EXIT_BROKER, "broker", 0, "device-not-given");
    return 0;
}
