/* The staff console's queue: ListEnquiries with its views (statuses,
   unassigned, overdue, due today, search) in three orders with keyset
   pages, and the counts shown beside the views. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_handler.h"
#include "dp_validate.h"
#include "intake_db.h"
#include "intake_service.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT
#define S(name) DP__ENQUIRY_STATUS__ENQUIRY_STATUS_##name

enum { MAX_NAME_BYTES = 100, MAX_SEARCH_BYTES = 200, INSTANT_BYTES = 27 };

/* The first letter of a page cursor, by Dp__EnquirySort: a cursor is only
   good for the order that issued it. */
static const char s_order_letters[] = "nod";

static bool s_digits(const char *text, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

/* A time as the cursors write it: "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC). */
static bool s_valid_instant(const char *text, size_t length)
{
    if (length != INSTANT_BYTES || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
        text[19] != '.' || text[26] != 'Z')
        return false;
    char date[11];
    memcpy(date, text, 10);
    date[10] = 0;
    if (!dp_valid_date(date) || !s_digits(text + 11, 2) || !s_digits(text + 14, 2) ||
        !s_digits(text + 17, 2) || !s_digits(text + 20, 6))
        return false;
    return atoi(text + 11) < 24 && atoi(text + 14) < 60 && atoi(text + 17) < 60;
}

/* Reads a page cursor, "<order>_[<due_on>_]<received_at>_<id>", into the
   queue (strings in the reply's arena). False after refusing it. */
static bool s_read_cursor(dp_reply_t *reply, const char *token, intake_queue_t *queue)
{
    char letter = s_order_letters[queue->sort];
    bool due = queue->sort == DP__ENQUIRY_SORT__ENQUIRY_SORT_DUE_ASC;
    size_t prefix = due ? 13 : 2;              /* "d_YYYY-MM-DD_" or "n_" */
    size_t id_at = prefix + INSTANT_BYTES + 1; /* after "<received_at>_" */
    size_t length = strlen(token);
    if (length > 2 && token[1] == '_' && strchr(s_order_letters, token[0]) && token[0] != letter) {
        dp_reply_error(reply, INVALID, "page_token",
                       "page_token belongs to a listing in another order (sort)");
        return false;
    }
    char *copy = dp_arena_strdup(dp_reply_arena(reply), token);
    bool good = copy && length > id_at && length - id_at <= 19 && token[0] == letter &&
                token[1] == '_' && token[id_at - 1] == '_' &&
                s_digits(token + id_at, length - id_at) &&
                s_valid_instant(token + prefix, INSTANT_BYTES);
    if (good && due) {
        good = token[12] == '_';
        copy[12] = 0;
        good = good && dp_valid_date(copy + 2);
    }
    if (good)
        queue->after_id = strtoll(token + id_at, NULL, 10);
    if (!good || queue->after_id <= 0) {
        dp_reply_error(reply, INVALID, "page_token", "page_token is not one this service issued");
        return false;
    }
    copy[prefix + INSTANT_BYTES] = 0;
    queue->after_received = copy + prefix;
    queue->after_due = due ? copy + 2 : NULL;
    return true;
}

/* The statuses as an array literal "{a,b}" (names are plain words), or
   NULL for none. False after refusing an unknown one. */
static bool s_read_statuses(dp_reply_t *reply, const Dp__ListEnquiriesRequest *request,
                            intake_queue_t *queue)
{
    queue->statuses = NULL;
    if (!request->n_statuses)
        return true;
    size_t size = 3 + request->n_statuses * 16;
    char *literal = dp_arena_alloc(dp_reply_arena(reply), size);
    if (!literal) {
        dp_reply_error(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, "statuses", "too many statuses");
        return false;
    }
    size_t used = (size_t)snprintf(literal, size, "{");
    for (size_t i = 0; i < request->n_statuses; i++) {
        const char *name = intake_status_text(request->statuses[i]);
        if (!name) {
            dp_reply_error(reply, INVALID, "statuses", "statuses[%zu] is not a known status", i);
            return false;
        }
        used += (size_t)snprintf(literal + used, size - used, "%s%s", i ? "," : "", name);
    }
    snprintf(literal + used, size - used, "}");
    queue->statuses = literal;
    return true;
}

/* Checks every field of the request and fills the queue. */
static bool s_read_request(dp_reply_t *reply, const Dp__ListEnquiriesRequest *request,
                           intake_queue_t *queue)
{
    *queue = (intake_queue_t){.filter = request, .sort = request->sort};
    const char *status = intake_status_text(request->status);
    if (request->status != S(UNSPECIFIED) && !status) {
        dp_reply_error(reply, INVALID, "status", "status is not a known value");
        return false;
    }
    queue->status = status ? status : "";
    if ((size_t)request->sort >= strlen(s_order_letters)) {
        dp_reply_error(reply, INVALID, "sort", "sort is not a known order");
        return false;
    }
    const char *dates[][2] = {{"received_from", request->received_from},
                              {"received_to", request->received_to}};
    for (size_t i = 0; i < 2; i++)
        if (!dp_check_date(reply, dates[i][0], dates[i][1], false))
            return false;
    const char *texts[][2] = {{"kind", request->kind},
                              {"source", request->source},
                              {"area", request->area},
                              {"partner_slug", request->partner_slug},
                              {"assignee", request->assignee}};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (!dp_check_text(reply, texts[i][0], texts[i][1], MAX_NAME_BYTES, false))
            return false;
    if (!dp_check_text(reply, "search", request->search, MAX_SEARCH_BYTES, false) ||
        !s_read_statuses(reply, request, queue))
        return false;
    dp_page_t page;
    if (!dp_page_read(reply, "", request->page_size, &page))
        return false;
    queue->limit = page.limit;
    return !*request->page_token || s_read_cursor(reply, request->page_token, queue);
}

/* ---- ListEnquiries --------------------------------------------------------------- */

typedef struct {
    intake_t *intake;             /* the service */
    dp_reply_t *reply;            /* whose arena holds the page */
    const intake_queue_t *queue;  /* what to list */
    const char *actor;            /* who reads (audited) */
    Dp__ListEnquiriesReply *page; /* the answer */
    char *last_cursor;            /* the last row's cursor, or NULL */
} listing_t;

/* The page, the total and the audit row read one snapshot. */
static dp_txn_outcome_t s_list_body(dp_db_t *db, void *arg)
{
    listing_t *listing = arg;
    Dp__ListEnquiriesReply *page = listing->page;
    page->n_enquiries = 0;
    page->total = 0;
    if (intake_db_list_queue(db, dp_reply_arena(listing->reply), listing->queue, &page->enquiries,
                             &page->n_enquiries, &listing->last_cursor) < 0)
        return DP_TXN_FAILED;
    if (listing->queue->filter->with_total &&
        intake_db_count_matches(db, listing->queue, &page->total) < 0)
        return DP_TXN_FAILED;
    /* Lists show names and subjects: personal data, so the read is recorded. */
    if (page->n_enquiries && intake_audit(listing->intake, listing->actor, "list enquiries", "",
                                          "%zu enquiries from id %" PRId64, page->n_enquiries,
                                          page->enquiries[0]->id) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

void intake_list(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    intake_t *intake = state;
    const Dp__ListEnquiriesRequest *request = (const Dp__ListEnquiriesRequest *)message;
    intake_queue_t queue;
    if (!s_read_request(reply, request, &queue))
        return;
    Dp__ListEnquiriesReply answer = DP__LIST_ENQUIRIES_REPLY__INIT;
    listing_t listing = {intake, reply, &queue, intake_who(reply, ""), &answer, NULL};
    if (dp_db_transaction(intake->db, s_list_body, &listing) != 0) {
        dp_reply_db_failure(reply, intake->db);
        return;
    }
    /* A full page may have a next one; a short page ends the list. */
    bool full = answer.n_enquiries == (size_t)queue.limit && listing.last_cursor;
    answer.next_page_token = full ? listing.last_cursor : "";
    dp_reply_ok(reply, &answer.base);
}

/* ---- CountEnquiries ------------------------------------------------------------- */

void intake_count(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    intake_t *intake = state;
    const Dp__CountEnquiriesRequest *request = (const Dp__CountEnquiriesRequest *)message;
    if (!dp_check_text(reply, "assignee", request->assignee, MAX_NAME_BYTES, false))
        return;
    Dp__CountEnquiriesReply answer = DP__COUNT_ENQUIRIES_REPLY__INIT;
    dp_reply_read(reply, intake->db, intake_db_count_queue(intake->db, request->assignee, &answer),
                  &answer.base);
}
