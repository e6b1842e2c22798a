#include "dp_privacy.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

void dp_privacy_subject_key(const char *secret, const char *email, char key[DP_PRIVACY_KEY_HEX])
{
    char lower[320];
    size_t length = 0;
    for (const char *p = email; *p && length < sizeof lower - 1; p++)
        lower[length++] = (char)tolower((unsigned char)*p);
    lower[length] = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)lower, length, digest,
         &digest_length);
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < 32; i++) {
        key[i * 2] = digits[digest[i] >> 4];
        key[i * 2 + 1] = digits[digest[i] & 15];
    }
    key[64] = 0;
}

void dp_privacy_erased_email(const char *key, char email[64])
{
    snprintf(email, 64, "erased-%.16s@invalid", key);
}
