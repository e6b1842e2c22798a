#include "dp_handler.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_validate.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

bool dp_check_text(dp_reply_t *reply, const char *field, const char *value, size_t max,
                   bool required)
{
    if (required ? dp_valid_required_text(value, max) : dp_valid_text(value, max))
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be %sUTF-8 text of at most %zu bytes", field,
                   required ? "non-blank " : "", max);
    return false;
}

bool dp_check_slug(dp_reply_t *reply, const char *field, const char *value)
{
    if (dp_valid_slug(value))
        return true;
    dp_reply_error(reply, INVALID, field,
                   "%s must be 1 to 63 lower-case letters, digits or inner hyphens", field);
    return false;
}

bool dp_check_date(dp_reply_t *reply, const char *field, const char *value, bool required)
{
    if ((!required && !*value) || dp_valid_date(value))
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be a date YYYY-MM-DD%s", field,
                   required ? "" : " or empty");
    return false;
}

bool dp_check_id(dp_reply_t *reply, const char *field, int64_t id, const char *what)
{
    if (id > 0)
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be %s", field, what);
    return false;
}

bool dp_check_limit(dp_reply_t *reply, const char *field, uint32_t value, int default_value,
                    int max, int *limit)
{
    if (value > (uint32_t)max) {
        dp_reply_error(reply, INVALID, field, "%s must be at most %d", field, max);
        return false;
    }
    *limit = value ? (int)value : default_value;
    return true;
}

bool dp_page_read(dp_reply_t *reply, const char *token, uint32_t page_size, dp_page_t *page)
{
    page->after = 0;
    if (!dp_check_limit(reply, "page_size", page_size, DP_PAGE_DEFAULT, DP_PAGE_MAX, &page->limit))
        return false;
    if (!*token)
        return true;
    char *end = NULL;
    long long value = strtoll(token, &end, 10);
    /* Nineteen digits at most: strtoll would clamp a longer one silently. */
    if (*end || value <= 0 || strlen(token) > 19) {
        dp_reply_error(reply, INVALID, "page_token", "page_token is not one this service issued");
        return false;
    }
    page->after = value;
    return true;
}

char *dp_page_next(dp_reply_t *reply, const dp_page_t *page, size_t count, int64_t last_id)
{
    if (count < (size_t)page->limit)
        return "";
    char *token = dp_arena_alloc(dp_reply_arena(reply), 24);
    if (token)
        snprintf(token, 24, "%" PRId64, last_id);
    return token ? token : "";
}

void dp_reply_read(dp_reply_t *reply, dp_db_t *db, int outcome, const ProtobufCMessage *answer)
{
    if (outcome < 0)
        dp_reply_db_failure(reply, db);
    else
        dp_reply_ok(reply, answer);
}

void dp_reply_list(dp_reply_t *reply, dp_db_t *db, const ProtobufCMessageDescriptor *type,
                   dp_list_read_fn *read)
{
    /* A list reply is a header, a count and an array: room on the stack,
       as each handler had it before (dp_reply_ok packs it at once). */
    union {
        ProtobufCMessage base;
        char bytes[128];
    } answer;
    assert(type->sizeof_message <= sizeof answer);
    protobuf_c_message_init(type, &answer);
    const ProtobufCFieldDescriptor *field = NULL;
    for (unsigned i = 0; !field && i < type->n_fields; i++)
        if (type->fields[i].label == PROTOBUF_C_LABEL_REPEATED &&
            type->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            field = &type->fields[i];
    assert(field);
    char *base = answer.bytes;
    int outcome = read(db, dp_reply_arena(reply), (void ***)(base + field->offset),
                       (size_t *)(base + field->quantifier_offset));
    dp_reply_read(reply, db, outcome, &answer.base);
}

void dp_reply_found(dp_reply_t *reply, dp_db_t *db, int found, const ProtobufCMessage *answer,
                    const char *field, const char *format, ...)
{
    if (found < 0)
        dp_reply_db_failure(reply, db);
    else if (found > 0)
        dp_reply_ok(reply, answer);
    else {
        char message[512];
        va_list args;
        va_start(args, format);
        vsnprintf(message, sizeof message, format, args);
        va_end(args);
        dp_reply_error(reply, DP__CODE__CODE_NOT_FOUND, field, "%s", message);
    }
}
