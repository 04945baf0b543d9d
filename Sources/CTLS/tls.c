#include "vfiod_tls.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The longest certificate chain accepted (leaf and intermediates). */
#define VFIOD_TLS_MAX_CHAIN 16
/* Listeners with TLS at once in one process (tests start several servers). */
#define VFIOD_TLS_MAX_LISTENERS 64

/* One key pair: a chain in GnuTLS's parsed form and its private key. */
struct identity {
  gnutls_pcert_st chain[VFIOD_TLS_MAX_CHAIN];
  unsigned int length;
  gnutls_privkey_t key;
  /* The key pair served before this one. */
  struct identity *previous;
};

struct vfiod_tls_listener {
  int require_client_certificate;
  /* Guarded by `lock`. */
  struct identity *current;
};

/* Guards the registry and every listener's `current`. Held only to copy a few pointers. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  int fd;
  struct vfiod_tls_listener *listener;
} registry[VFIOD_TLS_MAX_LISTENERS];

static void identity_free(struct identity *identity) {
  for (unsigned int i = 0; i < identity->length; i++) gnutls_pcert_deinit(&identity->chain[i]);
  if (identity->key != NULL) gnutls_privkey_deinit(identity->key);
  free(identity);
}

struct vfiod_tls_listener *vfiod_tls_listener_new(int require_client_certificate) {
  struct vfiod_tls_listener *listener = calloc(1, sizeof *listener);
  if (listener != NULL) listener->require_client_certificate = require_client_certificate;
  return listener;
}

void vfiod_tls_listener_free(struct vfiod_tls_listener *listener) {
  if (listener == NULL) return;
  struct identity *identity = listener->current;
  while (identity != NULL) {
    struct identity *previous = identity->previous;
    identity_free(identity);
    identity = previous;
  }
  free(listener);
}

/* Reads a whole file into `data` (freed with gnutls_free); on failure writes why to `summary`. */
static int read_file(const char *path, const char *what, gnutls_datum_t *data, char *summary, size_t size) {
  errno = 0;
  if (gnutls_load_file(path, data) == 0) return 0;
  snprintf(summary, size, "cannot read the TLS %s %s: %s", what, path, errno != 0 ? strerror(errno) : "unreadable");
  return -1;
}

/* Whether `key` is the private half of the public key in `certificate` (their SHA-256 key ids match). */
static int key_matches(gnutls_privkey_t key, gnutls_pcert_st *certificate) {
  gnutls_pubkey_t derived;
  unsigned char a[64], b[64];
  size_t a_size = sizeof a, b_size = sizeof b;
  if (gnutls_pubkey_init(&derived) != 0) return 0;
  int ok = gnutls_pubkey_import_privkey(derived, key, 0, 0) == 0
      && gnutls_pubkey_get_key_id(derived, GNUTLS_KEYID_USE_SHA256, a, &a_size) == 0
      && gnutls_pubkey_get_key_id(certificate->pubkey, GNUTLS_KEYID_USE_SHA256, b, &b_size) == 0
      && a_size == b_size && memcmp(a, b, a_size) == 0;
  gnutls_pubkey_deinit(derived);
  return ok;
}

/* "serial HEX, subject DN, expires DATE" of the leaf; -1 (with the reason) when it has expired. */
static int describe(gnutls_pcert_st *leaf, char *summary, size_t size) {
  gnutls_x509_crt_t crt;
  unsigned char serial[40];
  size_t serial_size = sizeof serial;
  gnutls_datum_t dn = { NULL, 0 };
  if (gnutls_x509_crt_init(&crt) != 0) return -1;
  int ok = gnutls_x509_crt_import(crt, &leaf->cert, GNUTLS_X509_FMT_DER) == 0
      && gnutls_x509_crt_get_serial(crt, serial, &serial_size) == 0
      && gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0;
  time_t expires = gnutls_x509_crt_get_expiration_time(crt);
  gnutls_x509_crt_deinit(crt);
  if (!ok) {
    gnutls_free(dn.data);
    snprintf(summary, size, "cannot read the TLS certificate's serial and subject");
    return -1;
  }
  char hex[2 * sizeof serial + 1];
  for (size_t i = 0; i < serial_size; i++) snprintf(hex + 2 * i, 3, "%02x", serial[i]);
  struct tm utc;
  char date[32];
  gmtime_r(&expires, &utc);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
  int expired = expires <= time(NULL);
  snprintf(summary, size, "%sserial %s, subject %s, %s %s", expired ? "the TLS certificate has expired: " : "",
           hex, (const char *) dn.data, expired ? "expired" : "expires", date);
  gnutls_free(dn.data);
  return expired ? -1 : 0;
}

/* Parses the chain and key into `identity`; on failure writes why to `summary`. */
static int parse(struct identity *identity, const gnutls_datum_t *certificate, const gnutls_datum_t *key,
                 const char *certificate_path, const char *key_path, char *summary, size_t size) {
  identity->length = VFIOD_TLS_MAX_CHAIN;
  int ret = gnutls_pcert_list_import_x509_raw(identity->chain, &identity->length, certificate, GNUTLS_X509_FMT_PEM,
                                              GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
  if (ret < 0) {
    identity->length = 0;
    snprintf(summary, size, "cannot use the TLS certificate %s: %s", certificate_path, gnutls_strerror(ret));
    return -1;
  }
  if (gnutls_privkey_init(&identity->key) != 0) return -1;
  ret = gnutls_privkey_import_x509_raw(identity->key, key, GNUTLS_X509_FMT_PEM, NULL, 0);
  if (ret < 0) {
    snprintf(summary, size, "cannot use the TLS key %s: %s", key_path, gnutls_strerror(ret));
    return -1;
  }
  if (!key_matches(identity->key, &identity->chain[0])) {
    snprintf(summary, size, "the TLS key %s does not belong to the certificate %s", key_path, certificate_path);
    return -1;
  }
  return describe(&identity->chain[0], summary, size);
}

int vfiod_tls_listener_load(struct vfiod_tls_listener *listener, const char *certificate_path,
                            const char *key_path, char *summary, size_t summary_size) {
  gnutls_datum_t certificate = { NULL, 0 }, key = { NULL, 0 };
  struct identity *identity = calloc(1, sizeof *identity);
  int ok = identity != NULL
      && read_file(certificate_path, "certificate", &certificate, summary, summary_size) == 0
      && read_file(key_path, "key", &key, summary, summary_size) == 0
      && parse(identity, &certificate, &key, certificate_path, key_path, summary, summary_size) == 0;
  gnutls_free(certificate.data);
  if (key.data != NULL) {
    /* The key's PEM text: wiped before it goes back to the allocator. */
    gnutls_memset(key.data, 0, key.size);
    gnutls_free(key.data);
  }
  if (!ok) {
    if (identity != NULL) identity_free(identity);
    return -1;
  }
  pthread_mutex_lock(&lock);
  identity->previous = listener->current;
  listener->current = identity;
  pthread_mutex_unlock(&lock);
  return 0;
}

int vfiod_tls_register(int listen_fd, struct vfiod_tls_listener *listener) {
  int slot = -1;
  pthread_mutex_lock(&lock);
  /* A slot still naming this fd first (a stopped listener whose fd number was reused): a later lookup by
   * fd must find the new listener, never the old one that is being freed. Else a free slot. */
  for (int i = 0; i < VFIOD_TLS_MAX_LISTENERS && slot < 0; i++)
    if (registry[i].listener != NULL && registry[i].fd == listen_fd) slot = i;
  for (int i = 0; i < VFIOD_TLS_MAX_LISTENERS && slot < 0; i++)
    if (registry[i].listener == NULL) slot = i;
  if (slot >= 0) {
    registry[slot].fd = listen_fd;
    registry[slot].listener = listener;
  }
  pthread_mutex_unlock(&lock);
  return slot >= 0 ? 0 : -1;
}

void vfiod_tls_unregister(int listen_fd, struct vfiod_tls_listener *listener) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < VFIOD_TLS_MAX_LISTENERS; i++) {
    if (registry[i].fd == listen_fd && registry[i].listener == listener) registry[i].listener = NULL;
  }
  pthread_mutex_unlock(&lock);
}

/* gnutls_certificate_retrieve_function2: called by GnuTLS inside a server handshake, on the
 * libmicrohttpd thread that owns the connection. libmicrohttpd set the session's pointer to its
 * connection (gnutls_session_set_ptr, 0.9.75), whose daemon's listening socket names the listener. The
 * chain and key handed back stay allocated until the listener is freed, after its daemon stopped. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *requested_issuers, int issuer_count,
                    const gnutls_pk_algorithm_t *algorithms, int algorithm_count, gnutls_pcert_st **chain,
                    unsigned int *length, gnutls_privkey_t *key) {
  (void) requested_issuers, (void) issuer_count, (void) algorithms, (void) algorithm_count;
  struct MHD_Connection *connection = gnutls_session_get_ptr(session);
  const union MHD_ConnectionInfo *owner =
      connection != NULL ? MHD_get_connection_info(connection, MHD_CONNECTION_INFO_DAEMON) : NULL;
  const union MHD_DaemonInfo *socket =
      owner != NULL ? MHD_get_daemon_info(owner->daemon, MHD_DAEMON_INFO_LISTEN_FD) : NULL;
  if (socket == NULL) return -1;
  int found = 0, require = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < VFIOD_TLS_MAX_LISTENERS && !found; i++) {
    struct vfiod_tls_listener *listener = registry[i].listener;
    if (listener != NULL && registry[i].fd == socket->listen_fd && listener->current != NULL) {
      *chain = listener->current->chain;
      *length = listener->current->length;
      *key = listener->current->key;
      require = listener->require_client_certificate;
      found = 1;
    }
  }
  pthread_mutex_unlock(&lock);
  if (!found) return -1;
  if (require) {
    /* Still before the server's CertificateRequest: the handshake now fails unless the client sends a
     * certificate that verifies against the credentials' trust list. */
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    /* And that the certificate may stand for a TLS client: GnuTLS refuses one whose extended key usage
     * names other purposes only (a certificate without the extension is taken for any purpose). */
    static gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *) GNUTLS_KP_TLS_WWW_CLIENT, 0 };
    gnutls_session_set_verify_cert2(session, &purpose, 1, 0);
  }
  return 0;
}

void *vfiod_tls_certificate_callback(void) {
  gnutls_certificate_retrieve_function2 *function = retrieve;
  return (void *) function;
}

char *vfiod_tls_verified_peer_subject(void *session_pointer) {
  gnutls_session_t session = session_pointer;
  unsigned int status = 0, count = 0;
  if (session == NULL || gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0) return NULL;
  /* The peer's chain as DER, leaf first; owned by the session. */
  const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &count);
  if (peers == NULL || count == 0) return NULL;
  gnutls_x509_crt_t crt;
  gnutls_datum_t dn = { NULL, 0 };
  char *subject = NULL;
  if (gnutls_x509_crt_init(&crt) != 0) return NULL;
  if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0 && gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
    subject = strndup((const char *) dn.data, dn.size);
  }
  gnutls_free(dn.data);
  gnutls_x509_crt_deinit(crt);
  return subject;
}
