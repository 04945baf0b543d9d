// The lease load client: see include/bench_leases.h. One thread; every connection is a small state
// machine advanced when epoll says its socket is readable: a response is complete when its headers and
// Content-Length bytes of body have arrived (vfiod answers these four requests with Content-Length).
#define _GNU_SOURCE
#include "bench_leases.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum step { POSTING, BINDING, RELEASING, UNBINDING, DONE };

typedef struct {
    int fd;
    int group;
    enum step step;
    double started;
    size_t length;
    char assignment[96];
    char operation[96];
    char buffer[16384];
} connection;

typedef struct {
    double *values;
    long count, capacity;
} latencies;

static double now_seconds(clockid_t clock) {
    struct timespec time;
    clock_gettime(clock, &time);
    return (double)time.tv_sec + (double)time.tv_nsec / 1e9;
}

static void record(latencies *list, double value) {
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 4096;
        list->values = realloc(list->values, (size_t)list->capacity * sizeof(double));
    }
    list->values[list->count++] = value;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// A blocking connect to 127.0.0.1:port, then non-blocking for the loop; -1 on failure.
static int open_connection(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { close(fd); return -1; }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

// Sends a whole request; a small request on a loopback socket with nothing queued goes in one call.
static int send_request(connection *c, const char *method, const char *path, const char *body) {
    char request[512];
    int length = body
        ? snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body), body)
        : snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    if (length <= 0 || (size_t)length >= sizeof request) return -1;
    c->length = 0;
    return send(c->fd, request, (size_t)length, MSG_NOSIGNAL) == length ? 0 : -1;
}

// The value of header `name` (case-insensitive) in `head` copied into `out` (path only: up to CR); 0 if found.
static int header(const char *head, const char *name, char *out, size_t size) {
    size_t name_length = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, name_length) != 0 || line[2 + name_length] != ':') continue;
        const char *value = line + 3 + name_length;
        while (*value == ' ') value++;
        size_t length = strcspn(value, "\r");
        if (length >= size) return -1;
        memcpy(out, value, length);
        out[length] = 0;
        return 0;
    }
    return -1;
}

// The status of a complete response in c->buffer, its body in *body; 0 while the response is incomplete.
static int complete_response(connection *c, const char **body) {
    c->buffer[c->length] = 0;
    char *end = strstr(c->buffer, "\r\n\r\n");
    if (!end) return 0;
    *end = 0;
    char value[32];
    size_t content = header(c->buffer, "Content-Length", value, sizeof value) == 0 ? strtoul(value, NULL, 10) : 0;
    *end = '\r';
    if ((size_t)(end + 4 - c->buffer) + content > c->length) return 0;
    *body = end + 4;
    return strncmp(c->buffer, "HTTP/1.1 ", 9) == 0 ? atoi(c->buffer + 9) : -1;
}

// Starts a lifecycle, or ends the connection once the deadline has passed.
static int start_lifecycle(connection *c, double deadline) {
    if (now_seconds(CLOCK_MONOTONIC) >= deadline) { c->step = DONE; return 0; }
    char body[160];
    snprintf(body, sizeof body, "{\"group\":%d,\"holder\":{\"id\":\"bench-%d\",\"tenant\":\"bench\"},\"ttlSeconds\":600}",
             c->group, c->group);
    c->started = now_seconds(CLOCK_MONOTONIC);
    c->step = POSTING;
    return send_request(c, "POST", "/v1/assignments", body);
}

// Waits for the operation named in c->operation.
static int wait_for_operation(connection *c, enum step step) {
    char path[128];
    snprintf(path, sizeof path, "%s?wait=30", c->operation);
    c->step = step;
    return send_request(c, "GET", path, NULL);
}

// The next request after a complete response; -1 when the lifecycle went wrong.
static int advance(connection *c, int status, const char *body, latencies *list, double deadline) {
    switch (c->step) {
    case POSTING:
        if (status != 202 || header(c->buffer, "Location", c->assignment, sizeof c->assignment) != 0
            || header(c->buffer, "Operation-Location", c->operation, sizeof c->operation) != 0) return -1;
        return wait_for_operation(c, BINDING);
    case BINDING:
        if (status != 200 || !strstr(body, "\"state\":\"succeeded\"")) return -1;
        c->step = RELEASING;
        return send_request(c, "DELETE", c->assignment, NULL);
    case RELEASING:
        if (status != 202 || header(c->buffer, "Operation-Location", c->operation, sizeof c->operation) != 0) return -1;
        return wait_for_operation(c, UNBINDING);
    case UNBINDING:
        if (status != 200 || !strstr(body, "\"state\":\"succeeded\"")) return -1;
        record(list, now_seconds(CLOCK_MONOTONIC) - c->started);
        return start_lifecycle(c, deadline);
    case DONE:
        return -1;
    }
    return -1;
}

// A connection whose lifecycle went wrong: counted, then a new connection starts the next lifecycle.
static void restart(connection *c, int epoll, uint16_t port, long *failures, double deadline) {
    (*failures)++;
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = open_connection(port);
    if (c->fd < 0) { c->step = DONE; return; }
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
    if (start_lifecycle(c, deadline) != 0) c->step = DONE;
}

// Reads what arrived on c and advances it as far as its complete responses go; returns 1 when c is done.
static int readable(connection *c, int epoll, uint16_t port, latencies *list, long *failures, double deadline) {
    // A finished connection the server closes later (its idle timeout) is counted already.
    if (c->step == DONE) { epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL); return 0; }
    ssize_t got = recv(c->fd, c->buffer + c->length, sizeof c->buffer - 1 - c->length, 0);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (got > 0) c->length += (size_t)got;
    const char *body = NULL;
    int status = got > 0 ? complete_response(c, &body) : -1;
    if (status == 0 && c->length < sizeof c->buffer - 1) return 0;
    if (status <= 0 || advance(c, status, body, list, deadline) != 0) restart(c, epoll, port, failures, deadline);
    return c->step == DONE;
}

int bench_leases(uint16_t port, int clients, int first_group, double seconds, bench_lease_result *result) {
    memset(result, 0, sizeof *result);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) return -1;
    connection *connections = calloc((size_t)clients, sizeof(connection));
    latencies list = {0};
    double cpu = now_seconds(CLOCK_THREAD_CPUTIME_ID), start = now_seconds(CLOCK_MONOTONIC);
    double deadline = start + seconds;
    int open = 0;
    for (int index = 0; index < clients; index++) {
        connection *c = &connections[index];
        c->group = first_group + index;
        c->fd = open_connection(port);
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        if (c->fd < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event) != 0 || start_lifecycle(c, deadline) != 0) {
            result->failures++;
            c->step = DONE;
            continue;
        }
        open++;
    }
    struct epoll_event events[256];
    while (open > 0) {
        int count = epoll_wait(epoll, events, 256, 1000);
        if (count < 0 && errno != EINTR) return -1;
        for (int index = 0; index < count; index++) open -= readable(events[index].data.ptr, epoll, port, &list, &result->failures, deadline);
    }
    result->elapsed = now_seconds(CLOCK_MONOTONIC) - start;
    result->cpu_seconds = now_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
    result->lifecycles = list.count;
    if (list.count > 0) {
        qsort(list.values, (size_t)list.count, sizeof(double), compare);
        result->p50_ms = list.values[(long)(list.count * 0.5)] * 1000;
        result->p99_ms = list.values[(long)(list.count * 0.99)] * 1000;
    }
    for (int index = 0; index < clients; index++) if (connections[index].fd >= 0) close(connections[index].fd);
    free(connections);
    free(list.values);
    close(epoll);
    return 0;
}
