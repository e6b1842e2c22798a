/* What the request handlers of every service share: a field checked and,
   when it fails, refused with INVALID_ARGUMENT naming it; one paging
   policy (page size and cursor); and the reply of a database read. */
#ifndef DP_HANDLER_H
#define DP_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_db.h"
#include "dp_server.h"

/* Text (dp_valid_text) of at most max bytes; required: not blank either. */
bool dp_check_text(dp_reply_t *reply, const char *field, const char *value, size_t max,
                   bool required);
/* A slug (dp_valid_slug). */
bool dp_check_slug(dp_reply_t *reply, const char *field, const char *value);
/* A date YYYY-MM-DD; "" too unless required. */
bool dp_check_date(dp_reply_t *reply, const char *field, const char *value, bool required);
/* A positive id; `what` completes "field must be ..." (e.g. "an enquiry id"). */
bool dp_check_id(dp_reply_t *reply, const char *field, int64_t id, const char *what);
/* A count the client asks for: at most max, 0 meaning default. */
bool dp_check_limit(dp_reply_t *reply, const char *field, uint32_t value, int default_value,
                    int max, int *limit);

/* ---- Pages of a list ------------------------------------------------------ */

/* The one policy of every paged list: page_size 0 means DP_PAGE_DEFAULT,
   more than DP_PAGE_MAX is refused; the cursor (page_token) is the last
   id of the previous page, opaque to clients. */
enum { DP_PAGE_DEFAULT = 50, DP_PAGE_MAX = 500 };

typedef struct {
    int64_t after; /* rows with an id above this one; 0 for the first page */
    int limit;     /* rows in this page at most */
} dp_page_t;

/* Reads page_size and page_token; refuses with the field named. */
bool dp_page_read(dp_reply_t *reply, const char *token, uint32_t page_size, dp_page_t *page);
/* The next page's token after `count` rows ending with last_id: "" when
   the page was not full (no more rows). In the reply's arena. */
char *dp_page_next(dp_reply_t *reply, const dp_page_t *page, size_t count, int64_t last_id);

/* ---- Replies of database reads -------------------------------------------- */

/* outcome < 0: the database failure; else the answer. */
void dp_reply_read(dp_reply_t *reply, dp_db_t *db, int outcome, const ProtobufCMessage *answer);

/* Reads a whole list into *items (an arena array of messages) and *count;
   returns 1, or -1 on a database failure (as dp_db_run_rows). */
typedef int(dp_list_read_fn)(dp_db_t *db, dp_arena_t *arena, void ***items, size_t *count);
/* Answers a request for a whole list with a reply of `type` (a message
   whose one repeated field holds the items, as ListAreasReply) filled by
   `read`, or with the database failure. */
void dp_reply_list(dp_reply_t *reply, dp_db_t *db, const ProtobufCMessageDescriptor *type,
                   dp_list_read_fn *read);
/* found < 0: the database failure; 0: NOT_FOUND naming field, with the
   message; else the answer. */
void dp_reply_found(dp_reply_t *reply, dp_db_t *db, int found, const ProtobufCMessage *answer,
                    const char *field, const char *format, ...)
    __attribute__((format(printf, 6, 7)));

#endif
