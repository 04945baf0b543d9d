#ifndef VFIOD_TLS_H
#define VFIOD_TLS_H

/*
 * TLS for vfiod's libmicrohttpd listener, on GnuTLS (libmicrohttpd's TLS library on Debian).
 *
 * libmicrohttpd is given a certificate callback (MHD_OPTION_HTTPS_CERT_CALLBACK) instead of a fixed key
 * pair: every handshake asks the listener for its current certificate chain and key, so a reload swaps
 * them for the next handshake without touching the daemon, its connections or anything in flight.
 * GnuTLS's callback has no closure argument: it finds the listener through the connection's daemon and
 * that daemon's listening socket, registered here before the daemon starts.
 */

#include <stddef.h>

/* A listener's TLS state: the key pair it serves now, the ones it served before (kept until it is
 * freed, since a handshake may still hold them), whether client certificates are required. */
struct vfiod_tls_listener;

/* A new listener without a key pair; `require_client_certificate` makes each handshake require and
 * verify a client certificate against the daemon's trust list (MHD_OPTION_HTTPS_MEM_TRUST). */
struct vfiod_tls_listener *vfiod_tls_listener_new(int require_client_certificate);

/* Loads the PEM certificate chain (leaf first) at `certificate_path` and the PEM private key at
 * `key_path`, checks that the key belongs to the leaf, and makes them the key pair served from the next
 * handshake on. On success returns 0 and writes "serial HEX, subject DN, expires DATE" to `summary`; on
 * failure returns -1, writes the reason to `summary`, and keeps the key pair served until then. */
int vfiod_tls_listener_load(struct vfiod_tls_listener *listener, const char *certificate_path,
                            const char *key_path, char *summary, size_t summary_size);

/* Frees the listener and every key pair it has served. Only once no daemon uses it. */
void vfiod_tls_listener_free(struct vfiod_tls_listener *listener);

/* Lets handshakes on the daemon listening on `listen_fd` find `listener`. Returns 0, or -1 when the
 * registry is full. */
int vfiod_tls_register(int listen_fd, struct vfiod_tls_listener *listener);

/* Forgets `listener` for `listen_fd` (a listener registered since under the same fd number stays). */
void vfiod_tls_unregister(int listen_fd, struct vfiod_tls_listener *listener);

/* The certificate callback to pass as MHD_OPTION_HTTPS_CERT_CALLBACK (a
 * gnutls_certificate_retrieve_function2). */
void *vfiod_tls_certificate_callback(void);

/* The subject (RFC 4514, e.g. "CN=orchestrator,O=example") of the client certificate of the TLS session
 * `session` (a gnutls_session_t), when the client sent one and it verified against the trust list;
 * NULL otherwise. The caller frees the string with free(). */
char *vfiod_tls_verified_peer_subject(void *session);

#endif
