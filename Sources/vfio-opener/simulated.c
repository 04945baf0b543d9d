/* vfio-opener --simulated: holding a device of vfiod's simulated kernel. The simulator's /dev/vfio files are
 * plain files, so the opener only keeps one open (which is what the simulator's opener scan looks for in
 * /proc/<pid>/fd) and, in place of the request eventfd, reads the FIFO the simulator writes device requests
 * to: <root>/.vfiod-simulator/requests/<ADDR>.<pid>, 8 bytes (a counter) per request, like an eventfd. */
#include "opener.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir that accepts an existing directory. */
static int make_directory(const char *path) {
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int opener_attach_simulated(const struct opener_options *options, struct opener_fds *fds) {
    char path[PATH_MAX];
    int length = options->cdev != NULL
        ? snprintf(path, sizeof path, "%s%s", options->host_root, options->cdev)
        : snprintf(path, sizeof path, "%s/dev/vfio/%lu", options->host_root, options->group);
    if (length < 0 || (size_t)length >= sizeof path) return opener_fail(OPENER_EXIT_USAGE, "path", ENAMETOOLONG, NULL);
    /* The same open as the real paths (read-write, close-on-exec); the file is the simulator's plain file. */
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (options->cdev != NULL) {
        fds->device = fd;
        if (fd < 0) return opener_fail(OPENER_EXIT_DEVICE, "open-cdev", errno, NULL);
    } else {
        fds->group = fd;
        if (fd < 0) return opener_fail(OPENER_EXIT_GROUP, "open-group", errno, NULL);
    }
    return opener_open_request_fifo(options, fds);
}

int opener_open_request_fifo(const struct opener_options *options, struct opener_fds *fds) {
    char directory[PATH_MAX];
    snprintf(directory, sizeof directory, "%s/.vfiod-simulator", options->host_root);
    if (make_directory(directory) < 0) return opener_fail(OPENER_EXIT_REQUEST_IRQ, "mkdir", errno, NULL);
    int length = snprintf(directory, sizeof directory, "%s/.vfiod-simulator/requests", options->host_root);
    if (length < 0 || (size_t)length >= sizeof directory || make_directory(directory) < 0)
        return opener_fail(OPENER_EXIT_REQUEST_IRQ, "mkdir", errno, NULL);
    length = snprintf(fds->fifo, sizeof fds->fifo, "%s/%s.%d", directory, options->device, (int)getpid());
    if (length < 0 || (size_t)length >= sizeof fds->fifo) {
        fds->fifo[0] = '\0';
        return opener_fail(OPENER_EXIT_REQUEST_IRQ, "mkfifo", ENAMETOOLONG, NULL);
    }
    if (mkfifo(fds->fifo, 0600) < 0) {
        int err = errno;
        fds->fifo[0] = '\0';
        return opener_fail(OPENER_EXIT_REQUEST_IRQ, "mkfifo", err, NULL);
    }
    /* Read-write so that opening does not wait for a writer and the FIFO never reports a hang-up between two
     * writers; non-blocking like the eventfd, which the loop reads 8 bytes at a time. */
    fds->request = open(fds->fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fds->request < 0) return opener_fail(OPENER_EXIT_REQUEST_IRQ, "open-fifo", errno, NULL);
    return 0;
}
