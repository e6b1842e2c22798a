/* Checks on text that arrives from the network, shared by every service. */
#ifndef DP_VALIDATE_H
#define DP_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Well-formed UTF-8 with no control characters other than tab, CR and LF. */
bool dp_valid_text(const char *text, size_t max_bytes);
/* Valid text, not blank, and at most max_bytes long. */
bool dp_valid_required_text(const char *text, size_t max_bytes);
/* A calendar date "YYYY-MM-DD" between 1900-01-01 and 2999-12-31. */
bool dp_valid_date(const char *text);
/* Lower-case letters, digits and inner hyphens, 1..63 characters. */
bool dp_valid_slug(const char *text);
/* A lower-case DNS name with at least one dot, e.g. "example.org". */
bool dp_valid_domain(const char *text);
/* local@domain with a plausible local part and a valid domain (any case). */
bool dp_valid_email(const char *text);
/* An http:// or https:// URL without spaces, or "". */
bool dp_valid_url(const char *text);

#endif
