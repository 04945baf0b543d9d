#ifndef CMICROHTTPD_SHIM_H
#define CMICROHTTPD_SHIM_H

/*
 * libmicrohttpd for Swift.
 *
 * MHD_start_daemon, MHD_get_daemon_info and MHD_get_connection_info are variadic, which Swift cannot
 * call. The static inline functions below give them fixed signatures. Everything else in
 * <microhttpd.h> is used directly.
 */

#include <microhttpd.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/random.h>

/* The URI log callback: called once per request with the raw request target (path and query, before
 * any unescaping); its result becomes the request's `req_cls`. */
typedef void *(*vfiod_mhd_uri_log_callback)(void *cls, const char *uri, struct MHD_Connection *connection);

/* Everything vfiod passes to MHD_start_daemon. */
struct vfiod_mhd_settings {
  unsigned int flags;
  /* An already bound and listening socket (MHD_OPTION_LISTEN_SOCKET). */
  int listen_fd;
  /* 0 or 1: one internal polling thread; more: MHD_OPTION_THREAD_POOL_SIZE. */
  unsigned int thread_pool_size;
  unsigned int connection_limit;
  /* 0: no per-IP limit. */
  unsigned int per_ip_connection_limit;
  unsigned int connection_timeout_seconds;
  MHD_AccessHandlerCallback access_handler;
  void *access_handler_cls;
  MHD_RequestCompletedCallback request_completed;
  void *request_completed_cls;
  vfiod_mhd_uri_log_callback uri_log;
  void *uri_log_cls;
  /* NULL: no external logger. */
  MHD_LogCallback error_log;
  void *error_log_cls;
  /* TLS (with MHD_USE_TLS in flags): MHD_OPTION_HTTPS_CERT_CALLBACK, a gnutls_certificate_retrieve_function2
   * that hands each handshake its certificate chain and key. NULL: plain HTTP. */
  void *tls_certificate_callback;
  /* PEM CA certificates that client certificates must chain to (MHD_OPTION_HTTPS_MEM_TRUST; libmicrohttpd
   * then asks clients for one). Read during MHD_start_daemon only. NULL: none asked for. */
  const char *tls_trust_pem;
  /* MHD_OPTION_NOTIFY_CONNECTION: told when a connection is accepted and when it is closed. */
  MHD_NotifyConnectionCallback notify_connection;
  void *notify_connection_cls;
  /* MHD_OPTION_CONNECTION_MEMORY_LIMIT: each connection's memory pool (request line, headers,
   * buffers); 0: libmicrohttpd's default (32 KiB). */
  size_t connection_memory_limit;
};

/* MHD_start_daemon with the settings above, passed as an MHD_OPTION_ARRAY. For options taking a
 * function and a closure argument, MHD reads the function from `value` and the closure from
 * `ptr_value`. Returns NULL on failure. */
static inline struct MHD_Daemon *vfiod_mhd_start(const struct vfiod_mhd_settings *s) {
  struct MHD_OptionItem ops[16];
  int n = 0;
  ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, (intptr_t) s->listen_fd, NULL };
  if (s->thread_pool_size > 1)
    ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t) s->thread_pool_size, NULL };
  ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, (intptr_t) s->connection_limit, NULL };
  if (s->per_ip_connection_limit > 0)
    ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                        (intptr_t) s->per_ip_connection_limit, NULL };
  ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
                                      (intptr_t) s->connection_timeout_seconds, NULL };
  ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
                                      (intptr_t) s->request_completed, s->request_completed_cls };
  ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) s->uri_log, s->uri_log_cls };
  /* Options taking one pointer read it from `ptr_value`. */
  if (s->tls_certificate_callback != NULL)
    ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, s->tls_certificate_callback };
  if (s->tls_trust_pem != NULL)
    ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *) s->tls_trust_pem };
  if (s->notify_connection != NULL)
    ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) s->notify_connection,
                                        s->notify_connection_cls };
  if (s->connection_memory_limit > 0)
    ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                        (intptr_t) s->connection_memory_limit, NULL };
  ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
  /* The logger must be the very first option (not inside the array), or libmicrohttpd complains
   * through its default logger. */
  if (s->error_log != NULL)
    return MHD_start_daemon(s->flags, 0, NULL, NULL, s->access_handler, s->access_handler_cls,
                            MHD_OPTION_EXTERNAL_LOGGER, s->error_log, s->error_log_cls,
                            MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
  return MHD_start_daemon(s->flags, 0, NULL, NULL, s->access_handler, s->access_handler_cls,
                          MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

/* The port the daemon listens on (MHD_DAEMON_INFO_BIND_PORT), 0 if unknown. */
static inline uint16_t vfiod_mhd_bound_port(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info != NULL ? info->port : 0;
}

/* Open connections (MHD_DAEMON_INFO_CURRENT_CONNECTIONS). */
static inline unsigned int vfiod_mhd_current_connections(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return info != NULL ? info->num_connections : 0;
}

/* The peer address of a connection (MHD_CONNECTION_INFO_CLIENT_ADDRESS), NULL if unknown. The
 * pointer stays valid while the connection exists. */
static inline const struct sockaddr *vfiod_mhd_client_address(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  return info != NULL ? info->client_addr : NULL;
}

/* The GnuTLS session (a gnutls_session_t) of a connection to a TLS daemon
 * (MHD_CONNECTION_INFO_GNUTLS_SESSION), NULL for plain HTTP. Valid while the connection exists. */
static inline void *vfiod_mhd_tls_session(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  return info != NULL ? info->tls_session : NULL;
}

/* The socket of a connection (MHD_CONNECTION_INFO_CONNECTION_FD), -1 if unknown. libmicrohttpd closes
 * it after the MHD_CONNECTION_NOTIFY_CLOSED callback returns. */
static inline int vfiod_mhd_connection_fd(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info != NULL ? info->connect_fd : -1;
}

/* The `socket_context` set by the MHD_CONNECTION_NOTIFY_STARTED callback
 * (MHD_CONNECTION_INFO_SOCKET_CONTEXT), NULL if none. */
static inline void *vfiod_mhd_socket_context(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info != NULL ? info->socket_context : NULL;
}

/* MHD_set_connection_option(MHD_CONNECTION_OPTION_TIMEOUT): the connection's own idle timeout, in
 * seconds. Call it on the thread that serves the connection (from one of its callbacks). */
static inline void vfiod_mhd_set_connection_timeout(struct MHD_Connection *connection, unsigned int seconds) {
  (void) MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

/* getrandom(2) into `buffer`: the bytes written, or -1. Request IDs use it (one call per 256 IDs). */
static inline long vfiod_random_bytes(void *buffer, unsigned long count) {
  return (long) getrandom(buffer, count, 0);
}

#endif
