/* Passwords, session ids and CSRF tokens, all from libsodium: Argon2id for
   passwords, the system's random source for tokens, SHA-256 to store a
   session id without keeping it, HMAC-SHA-256 to derive a session's form
   token. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "console_service.h"

int console_auth_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int console_password_hash(const char *password, char hash[CONSOLE_PASSWORD_HASH_MAX])
{
    _Static_assert(crypto_pwhash_STRBYTES <= CONSOLE_PASSWORD_HASH_MAX, "hash buffer too small");
    return crypto_pwhash_str_alg(hash, password, strlen(password),
                                 crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

bool console_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Made once: a login naming no account costs what a wrong password costs,
   so timing does not tell which logins exist. */
static char s_dummy[CONSOLE_PASSWORD_HASH_MAX];
static pthread_once_t s_dummy_once = PTHREAD_ONCE_INIT;

static void s_make_dummy(void)
{
    if (console_password_hash("not a password of anyone's", s_dummy) != 0)
        s_dummy[0] = '\0';
}

void console_password_dummy_verify(const char *password)
{
    pthread_once(&s_dummy_once, s_make_dummy);
    if (crypto_pwhash_str_verify(s_dummy, password, strlen(password)) == 0)
        s_dummy[0] = '\0'; /* cannot happen: no one's password */
}

void console_token_new(char text[CONSOLE_TOKEN_TEXT])
{
    unsigned char bytes[CONSOLE_TOKEN_BYTES];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2base64(text, CONSOLE_TOKEN_TEXT, bytes, sizeof bytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(bytes, sizeof bytes);
}

void console_token_hash(const char *token, char hex[CONSOLE_HASH_HEX])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
    hex[0] = '\\';
    hex[1] = 'x';
    sodium_bin2hex(hex + 2, CONSOLE_HASH_HEX - 2, digest, sizeof digest);
}

void console_csrf_of(const char *session_token, char text[CONSOLE_TOKEN_TEXT])
{
    static const char purpose[] = "dp-console form token";
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
    crypto_hash_sha256(key, (const unsigned char *)session_token, strlen(session_token));
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, (const unsigned char *)purpose, sizeof purpose - 1, key);
    sodium_bin2base64(text, CONSOLE_TOKEN_TEXT, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(key, sizeof key);
}

bool console_same_text(const char *a, const char *b)
{
    size_t length = strlen(a);
    if (length != strlen(b) || length == 0)
        return false;
    return sodium_memcmp(a, b, length) == 0;
}

bool console_password_acceptable(const char *password, const char **reason)
{
    size_t length = strlen(password);
    if (length >= CONSOLE_MIN_PASSWORD && length <= CONSOLE_MAX_PASSWORD)
        return true;
    *reason = "a password has 12 to 256 bytes";
    return false;
}
