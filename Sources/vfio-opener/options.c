/* vfio-opener: the command line and the usage text. */
#include "opener.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: vfio-opener --group N --device ADDR [options]\n"
    "       vfio-opener --cdev /dev/vfio/devices/vfioX [options]\n"
    "       vfio-opener --simulated --host-root DIR (--group N | --cdev PATH) --device ADDR [options]\n"
    "       vfio-opener --broker SOCKET --assignment ID --generation N --device ADDR [--uid U] [options]\n"
    "       vfio-opener --help\n"
    "\n"
    "Holds one PCI device through VFIO and answers the kernel's device request (cooperative unbind).\n"
    "\n"
    "  --group N            legacy path: /dev/vfio/vfio (container) and /dev/vfio/N (group), checks the\n"
    "                       group is viable, attaches it to a TYPE1v2 container, gets the device fd\n"
    "  --device ADDR        the device in the group, as DDDD:BB:DD.F (e.g. 0000:00:03.0)\n"
    "  --cdev PATH          cdev path: opens the device cdev and /dev/iommu, binds the device to iommufd,\n"
    "                       allocates an IOAS and attaches the device to it\n"
    "  --on-request ACTION  close (default): on the first request close device, group, container (or\n"
    "                       cdev, iommufd) and exit 0; ignore: keep holding and count requests\n"
    "  --hold-seconds S     release and exit 0 after S seconds (integer, 0 or more); default: no limit\n"
    "  --host-root DIR      prefix every /dev path with DIR (tests)\n"
    "  --simulated          a tree of vfiod's simulator below --host-root (required): opens DIR/dev/vfio/N\n"
    "                       (or DIR/PATH) as a plain file, makes no ioctl, and reads device requests from\n"
    "                       the FIFO DIR/.vfiod-simulator/requests/ADDR.PID (--device needed with --cdev too)\n"
    "  --broker SOCKET      fetch the lease's descriptors from vfiod's holder socket (no open of /dev/vfio or\n"
    "                       /dev/iommu): iommufd and the --device's cdev, or the group and a container;\n"
    "                       then VFIO_DEVICE_GET_INFO; prints `fd kind=K dev=MAJ:MIN ino=N` per descriptor,\n"
    "                       or `refused code=CODE` (exit 9). With --simulated: no ioctls, the FIFO as above\n"
    "  --assignment ID, --generation N   the lease to fetch (with --broker)\n"
    "  --uid U              first of all, become uid and gid U with no supplementary groups\n"
    "\n"
    "An eventfd is registered on VFIO_PCI_REQ_IRQ_INDEX. stdout gets one line per event, flushed:\n"
    "  ready pid=P group=N device=ADDR on-request=A       (legacy path)\n"
    "  ready pid=P cdev=PATH devid=D ioas=I on-request=A  (cdev path)\n"
    "  request n=N t=Tms      N requests so far, T ms after ready\n"
    "  closed                 every fd is closed\n"
    "  exit reason=R requests=N   R is request, signal sig=TERM|INT, or hold-seconds;\n"
    "  exit reason=error code=C   after an error (C is the exit status)\n"
    "Errors go to stderr as: error op=OP errno=N (NAME)\n"
    "SIGTERM and SIGINT release everything and exit 0.\n"
    "\n"
    "exit status: 0 released; 2 usage; 3 container; 4 group; 5 iommu (SET_CONTAINER/SET_IOMMU or\n"
    "/dev/iommu/IOAS_ALLOC); 6 device (GET_DEVICE_FD or cdev/BIND/ATTACH/GET_INFO); 7 request irq;\n"
    "8 event loop; 9 --uid or --broker (connect, refusal, answer)\n";

static int usage_error(const char *message, const char *argument) {
    fprintf(stderr, "vfio-opener: %s%s%s\n", message, argument ? ": " : "", argument ? argument : "");
    fprintf(stderr, "usage: vfio-opener --group N --device ADDR | --cdev PATH [--on-request close|ignore] "
                    "[--hold-seconds S] [--host-root DIR] [--simulated]  (--help for more)\n");
    return OPENER_EXIT_USAGE;
}

/* Parses a non-negative decimal integer no larger than `max`; returns 0 or -1. */
static int parse_count(const char *text, long max, long *out) {
    if (text == NULL || *text == '\0') return -1;
    for (const char *c = text; *c; c++) {
        if (!isdigit((unsigned char)*c)) return -1;
    }
    errno = 0;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0 || value > max) return -1;
    *out = value;
    return 0;
}

/* A PCI address the way the kernel names a PCI device: 4 hex digits of domain, 2 of bus, 2 of device
 * (at most 1f), and a function digit 0-7, e.g. 0000:00:03.0. VFIO_GROUP_GET_DEVICE_FD matches the name. */
static int is_pci_address(const char *text) {
    if (strlen(text) != 12) return 0;
    for (int i = 0; i < 12; i++) {
        char c = text[i];
        if (i == 4 || i == 7) { if (c != ':') return 0; continue; }
        if (i == 10) { if (c != '.') return 0; continue; }
        if (i == 11) { if (c < '0' || c > '7') return 0; continue; }
        if (!isxdigit((unsigned char)c)) return 0;
    }
    return strtol(text + 8, NULL, 16) <= 0x1f;
}

int opener_parse_options(int argc, char **argv, struct opener_options *out) {
    *out = (struct opener_options){ .host_root = "", .on_request = OPENER_ON_REQUEST_CLOSE, .hold_seconds = -1 };
    static char root[PATH_MAX];
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            fputs(usage_text, stdout);
            fflush(stdout);
            return -1;
        }
        if (strcmp(flag, "--simulated") == 0) {
            out->simulated = 1;
            continue;
        }
        const char *value = (i + 1 < argc) ? argv[i + 1] : NULL;
        int takes_value = strcmp(flag, "--group") == 0 || strcmp(flag, "--device") == 0 || strcmp(flag, "--cdev") == 0
            || strcmp(flag, "--on-request") == 0 || strcmp(flag, "--hold-seconds") == 0 || strcmp(flag, "--host-root") == 0
            || strcmp(flag, "--broker") == 0 || strcmp(flag, "--assignment") == 0 || strcmp(flag, "--generation") == 0
            || strcmp(flag, "--uid") == 0;
        if (!takes_value) return usage_error("unexpected argument", flag);
        if (value == NULL) return usage_error("missing value for", flag);
        i++;
        if (strcmp(flag, "--group") == 0) {
            long group;
            if (parse_count(value, INT_MAX, &group) != 0) return usage_error("--group needs a group number", value);
            out->has_group = 1;
            out->group = (unsigned long)group;
        } else if (strcmp(flag, "--device") == 0) {
            if (!is_pci_address(value)) return usage_error("--device needs a PCI address like 0000:00:03.0", value);
            out->device = value;
        } else if (strcmp(flag, "--cdev") == 0) {
            if (value[0] != '/') return usage_error("--cdev needs an absolute path", value);
            out->cdev = value;
        } else if (strcmp(flag, "--broker") == 0) {
            if (value[0] != '/') return usage_error("--broker needs an absolute path", value);
            out->broker = value;
        } else if (strcmp(flag, "--assignment") == 0) {
            if (strlen(value) > 128 || strpbrk(value, "\"\\") != NULL) return usage_error("--assignment needs an assignment id", value);
            out->assignment = value;
        } else if (strcmp(flag, "--generation") == 0) {
            long generation;
            if (parse_count(value, LONG_MAX, &generation) != 0) return usage_error("--generation needs a whole number", value);
            out->generation = generation;
        } else if (strcmp(flag, "--uid") == 0) {
            long uid;
            if (parse_count(value, 4294967294L, &uid) != 0) return usage_error("--uid needs a uid", value);
            out->has_uid = 1;
            out->uid = (unsigned long)uid;
        } else if (strcmp(flag, "--on-request") == 0) {
            if (strcmp(value, "close") == 0) out->on_request = OPENER_ON_REQUEST_CLOSE;
            else if (strcmp(value, "ignore") == 0) out->on_request = OPENER_ON_REQUEST_IGNORE;
            else return usage_error("--on-request needs close or ignore", value);
        } else if (strcmp(flag, "--hold-seconds") == 0) {
            if (parse_count(value, INT_MAX / 1000, &out->hold_seconds) != 0)
                return usage_error("--hold-seconds needs a whole number of seconds", value);
        } else {
            size_t length = strlen(value);
            while (length > 0 && value[length - 1] == '/') length--;
            if (length + 64 >= sizeof root) return usage_error("--host-root is too long", value);
            memcpy(root, value, length);
            root[length] = '\0';
            out->host_root = root;
        }
    }
    if (out->broker != NULL) {
        if (out->cdev != NULL || out->has_group) return usage_error("--broker cannot be combined with --group or --cdev", NULL);
        if (out->assignment == NULL || out->generation < 1) return usage_error("--broker needs --assignment and --generation", NULL);
        if (out->device == NULL) return usage_error("--broker needs --device", NULL);
        if (out->simulated && out->host_root[0] == '\0') return usage_error("--simulated needs --host-root", NULL);
        return 0;
    }
    if (out->cdev != NULL && (out->has_group || (out->device != NULL && !out->simulated)))
        return usage_error("--cdev cannot be combined with --group or --device", NULL);
    if (out->simulated && out->host_root[0] == '\0') return usage_error("--simulated needs --host-root", NULL);
    if (out->simulated && out->cdev != NULL && out->device == NULL) return usage_error("--simulated --cdev needs --device", NULL);
    if (out->cdev == NULL && !out->has_group) return usage_error("one of --group or --cdev is required", NULL);
    if (out->has_group && out->device == NULL) return usage_error("--group needs --device", NULL);
    if (out->cdev != NULL && strlen(out->host_root) + strlen(out->cdev) >= PATH_MAX)
        return usage_error("--cdev path is too long", out->cdev);
    return 0;
}
