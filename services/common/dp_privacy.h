/* Pseudonymous keys for personal data: a keyed hash (HMAC-SHA256 with the
   services' shared DP_PRIVACY_KEY) of a lower-cased e-mail address. Rows of
   one person are found by it; a tombstone holds it instead of the address. */
#ifndef DP_PRIVACY_H
#define DP_PRIVACY_H

#define DP_PRIVACY_KEY_HEX 65

/* Writes the 64 hex digits (and a NUL) of the key of `email`. */
void dp_privacy_subject_key(const char *secret, const char *email, char key[DP_PRIVACY_KEY_HEX]);

/* Text that replaces personal data, and the address that replaces an
   address (unique per person, made from the key; never deliverable). */
#define DP_ERASED_TEXT "[erased]"
void dp_privacy_erased_email(const char *key, char email[64]);

/* The row every service adds to its settings table. */
#define DP_PRIVACY_SETTINGS                                                                        \
    {"DP_PRIVACY_KEY", "development-only-privacy-key",                                             \
     "secret for the keyed hashes of e-mail addresses; the same in every service"}

#endif
