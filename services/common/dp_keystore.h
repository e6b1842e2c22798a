/* The allowed client keys of a key folder, as every check sees them: the
   ZAP handler at the handshake and the server at every request.

   Only regular files directly in <curve_dir>/clients whose name ends in
   ".key" count (not "x.key.revoked", not "x.key_secret", not hidden files,
   not anything in a subfolder): moving or renaming a file out of that
   pattern revokes the key. Each file is a czmq public certificate whose
   metadata gives "name" (default: the file name's stem), "role" and
   optionally "sources".

   The folder is read again when it may have changed (dp_keystore_refresh). Not thread-safe:
   dp_security.c holds the process's stores behind one lock. */
#ifndef DP_KEYSTORE_H
#define DP_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _dp_keystore_t dp_keystore_t;

/* What a key's certificate says about its holder. */
typedef struct {
    char name[101];     /* metadata "name", or the file name's stem */
    unsigned role;      /* the dp_role_t bit of metadata "role"; 0 when absent or unknown */
    char role_name[16]; /* the "role" text as parsed ("none" when unknown) */
    char sources[256];  /* metadata "sources" (comma-separated), or "" */
} dp_key_info_t;

/* A store for <curve_dir>/clients, read at once. NULL when out of memory. */
dp_keystore_t *dp_keystore_new(const char *curve_dir);
void dp_keystore_destroy(dp_keystore_t **self_p);

/* Reads the folder again when its modification time changed (a file
   added, removed or renamed: seen at once, for the price of one stat), or
   when a second has passed since the last listing (a file rewritten in
   place); the certificates are read only when a file that counts was
   added, removed, renamed or changed. A folder that cannot be read counts
   as empty (every key refused). */
void dp_keystore_refresh(dp_keystore_t *self);

/* Looks up a public key (40 Z85 characters) as of the last refresh. True
   and `info` filled when the key is allowed. */
bool dp_keystore_lookup(const dp_keystore_t *self, const char *public_z85, dp_key_info_t *info);

/* Grows by one each time a refresh finds that a key left the store or its
   certificate's metadata changed; starts at 0. */
uint64_t dp_keystore_generation(const dp_keystore_t *self);

/* The number of keys allowed. */
size_t dp_keystore_size(const dp_keystore_t *self);

#endif
