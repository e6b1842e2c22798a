/* The queue: one list of enquiries under filters that are all query
   arguments (so a view is a link to keep), with the intake's full-text
   search, its sort orders and keyset pages. */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "console_html.h"
#include "intake.pb-c.h"

enum { MAX_STATUSES = 8, PAGE_SIZE = 50 };

typedef struct {
    Dp__EnquiryStatus statuses[MAX_STATUSES];
    size_t count;
} statuses_t;

static enum MHD_Result s_collect_status(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    statuses_t *statuses = cls;
    Dp__EnquiryStatus status = 0;
    if (strcmp(key, "status") == 0 && value && console_status_parse(value, &status) &&
        statuses->count < MAX_STATUSES)
        statuses->statuses[statuses->count++] = status;
    return MHD_YES;
}

static bool s_has_status(const statuses_t *statuses, Dp__EnquiryStatus status)
{
    for (size_t i = 0; i < statuses->count; i++)
        if (statuses->statuses[i] == status)
            return true;
    return false;
}

/* The query arguments a link to another page of the same view keeps. */
static const char *const s_kept[] = {"view", "kind", "source", "partner", "area",
                                     "from", "to",   "q",      "sort"};

static void s_view_link(console_page_t *page, const statuses_t *statuses, const char *after)
{
    console_put(page, "/queue?");
    const char *separator = "";
    for (size_t i = 0; i < sizeof s_kept / sizeof *s_kept; i++) {
        const char *value = console_arg(page->request, s_kept[i]);
        if (!*value)
            continue;
        console_put(page, "%s%s=", separator, s_kept[i]);
        console_url_arg(page, value);
        separator = "&amp;";
    }
    for (size_t i = 0; i < statuses->count; i++) {
        console_put(page, "%sstatus=%s", separator, console_status_slug(statuses->statuses[i]));
        separator = "&amp;";
    }
    console_put(page, "%safter=", separator);
    console_url_arg(page, after);
}

static void s_filters(console_page_t *page, const statuses_t *statuses,
                      const Dp__ListEnquiryKindsReply *kinds)
{
    console_request_t *request = page->request;
    snprintf(page->form_id, sizeof page->form_id, "filters");
    console_put(page, "<form method=\"get\" action=\"/queue\" id=\"filters\" class=\"filters\">\n");
    static const char *const views[] = {"all", "mine", "unassigned", "due-today", "overdue"};
    const char *view_labels[] = {TXT->view_all, TXT->view_mine, TXT->view_unassigned,
                                 TXT->view_due_today, TXT->view_overdue};
    console_put(page, "<div class=\"field\">");
    console_select(page, "view", TXT->view, views, view_labels, 5, console_arg(request, "view"));
    console_put(page, "</div>\n<fieldset class=\"statuses\"><legend>%s</legend>\n", TXT->status);
    for (Dp__EnquiryStatus status = DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED;
         status <= DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED; status++) {
        const char *slug = console_status_slug(status);
        console_put(page,
                    "<label class=\"check\"><input type=\"checkbox\" name=\"status\" "
                    "value=\"%s\"%s> %s</label>\n",
                    slug, s_has_status(statuses, status) ? " checked" : "",
                    console_status_label(status));
    }
    console_put(page, "</fieldset>\n<div class=\"field\">");
    size_t count = kinds ? kinds->n_kinds + 1 : 1;
    const char **values = calloc(count, sizeof *values), **labels = calloc(count, sizeof *labels);
    if (values && labels) {
        values[0] = "";
        labels[0] = TXT->any;
        for (size_t i = 1; i < count; i++) {
            values[i] = kinds->kinds[i - 1]->slug;
            labels[i] = kinds->kinds[i - 1]->label;
        }
        console_select(page, "kind", TXT->kind, values, labels, count,
                       console_arg(request, "kind"));
    }
    free(values);
    free(labels);
    console_put(page, "</div>\n<div class=\"field\">");
    console_input(page, "q", TXT->search, "search", console_arg(request, "q"), false);
    console_put(page, "</div>\n<div class=\"field\">");
    console_input(page, "source", TXT->source, "text", console_arg(request, "source"), false);
    console_put(page, "</div>\n<div class=\"field\">");
    console_input(page, "partner", TXT->partner_slug, "text", console_arg(request, "partner"),
                  false);
    console_put(page, "</div>\n<div class=\"field\">");
    console_input(page, "area", TXT->area_slug, "text", console_arg(request, "area"), false);
    console_put(page, "</div>\n<div class=\"field\">");
    console_input(page, "from", TXT->received_from, "date", console_arg(request, "from"), false);
    console_put(page, "</div>\n<div class=\"field\">");
    console_input(page, "to", TXT->received_to, "date", console_arg(request, "to"), false);
    console_put(page, "</div>\n<div class=\"field\">");
    static const char *const sorts[] = {"received", "received-asc", "due"};
    const char *sort_labels[] = {TXT->sort_newest, TXT->sort_oldest, TXT->sort_due};
    console_select(page, "sort", TXT->sort, sorts, sort_labels, 3, console_arg(request, "sort"));
    console_put(page, "</div>\n<button type=\"submit\">%s</button>\n</form>\n", TXT->apply);
}

static void s_row(console_page_t *page, const Dp__Enquiry *enquiry)
{
    console_put(page, "<tr><td>%lld</td><td><a class=\"enquiry-link\" href=\"/enquiries/%lld\">",
                (long long)enquiry->id, (long long)enquiry->id);
    console_esc(page, *enquiry->subject ? enquiry->subject : TXT->no_subject);
    console_put(page, "</a></td><td>");
    console_esc(page, enquiry->sender_name);
    if (*enquiry->organisation) {
        console_put(page, "<br><span class=\"muted\">");
        console_esc(page, enquiry->organisation);
        console_put(page, "</span>");
    }
    console_put(page, "</td><td>");
    console_esc(page, enquiry->kind);
    console_put(page, "</td><td>%s</td><td>", console_status_label(enquiry->status));
    console_esc(page, *enquiry->assignee ? enquiry->assignee : "-");
    console_put(page, "</td><td>");
    console_time(page, enquiry->received_at);
    console_put(page, "</td><td>");
    console_esc(page, enquiry->due_on);
    console_put(page, "</td></tr>\n");
}

/* Fills the request from the query arguments; false (with why) when one is wrong. */
static bool s_read_filters(console_request_t *request, Dp__ListEnquiriesRequest *list,
                           statuses_t *statuses, const char **why)
{
    const char *view = console_arg(request, "view");
    if (strcmp(view, "mine") == 0)
        list->assignee = request->account.name;
    else if (strcmp(view, "unassigned") == 0)
        list->unassigned = true;
    else if (strcmp(view, "due-today") == 0)
        list->due_today = true;
    else if (strcmp(view, "overdue") == 0)
        list->overdue = true;
    else if (*view && strcmp(view, "all") != 0) {
        *why = TXT->unknown_view;
        return false;
    }
    /* Mine and unassigned are work to do: the open enquiries, as their
       counts in the navigation, unless statuses are chosen. */
    static Dp__EnquiryStatus open[] = {DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED,
                                       DP__ENQUIRY_STATUS__ENQUIRY_STATUS_TRIAGED,
                                       DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ASSIGNED,
                                       DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED};
    bool work = strcmp(view, "mine") == 0 || strcmp(view, "unassigned") == 0;
    list->statuses = work && statuses->count == 0 ? open : statuses->statuses;
    list->n_statuses = work && statuses->count == 0 ? sizeof open / sizeof *open : statuses->count;
    list->kind = (char *)console_arg(request, "kind");
    list->source = (char *)console_arg(request, "source");
    list->partner_slug = (char *)console_arg(request, "partner");
    list->area = (char *)console_arg(request, "area");
    list->received_from = (char *)console_arg(request, "from");
    list->received_to = (char *)console_arg(request, "to");
    list->search = (char *)console_arg(request, "q");
    const char *sort = console_arg(request, "sort");
    list->sort = strcmp(sort, "due") == 0            ? DP__ENQUIRY_SORT__ENQUIRY_SORT_DUE_ASC
                 : strcmp(sort, "received-asc") == 0 ? DP__ENQUIRY_SORT__ENQUIRY_SORT_RECEIVED_ASC
                                                     : DP__ENQUIRY_SORT__ENQUIRY_SORT_UNSPECIFIED;
    list->page_token = (char *)console_arg(request, "after");
    list->page_size = PAGE_SIZE;
    /* A search is a list of matches, not a view to count: its total would
       read every match (a common word: tens of thousands). */
    list->with_total = !*list->search;
    return true;
}

console_result_t console_page_queue(console_request_t *request)
{
    statuses_t statuses = {.count = 0};
    MHD_get_connection_values(request->connection, MHD_GET_ARGUMENT_KIND, s_collect_status,
                              &statuses);
    Dp__ListEnquiriesRequest list = DP__LIST_ENQUIRIES_REQUEST__INIT;
    const char *why = NULL;
    bool valid = s_read_filters(request, &list, &statuses, &why);

    Dp__ListEnquiryKindsRequest ask_kinds = DP__LIST_ENQUIRY_KINDS_REQUEST__INIT;
    Dp__ListEnquiryKindsReply *kinds = NULL;
    Dp__ListEnquiriesReply *found = NULL;
    dp_status_t status = {.code = DP__CODE__CODE_OK};
    console_call(request, CONSOLE_INTAKE, &ask_kinds.base,
                 &dp__list_enquiry_kinds_reply__descriptor, (ProtobufCMessage **)&kinds, &status);
    if (valid)
        console_call(request, CONSOLE_INTAKE, &list.base, &dp__list_enquiries_reply__descriptor,
                     (ProtobufCMessage **)&found, &status);

    console_page_t page;
    if (!console_page_begin(&page, request, TXT->queue_title, "queue")) {
        dp_message_free((ProtobufCMessage **)&kinds);
        dp_message_free((ProtobufCMessage **)&found);
        return MHD_NO;
    }
    s_filters(&page, &statuses, kinds);
    unsigned code = MHD_HTTP_OK;
    if (!valid) {
        console_notice(&page, "alert", why);
        code = MHD_HTTP_BAD_REQUEST;
    } else if (!found) {
        console_notice(&page, "alert", status.message);
        code = console_http_status(&status);
    } else {
        const char *columns[] = {"#",           TXT->subject, TXT->sender_column,
                                 TXT->kind,     TXT->status,  TXT->assignee,
                                 TXT->received, TXT->due,     NULL};
        /* The intake counts up to 10,000 and answers 10,001 for more. */
        if (list.with_total && found->total > 10000)
            console_table_begin(&page, "queue", 10000, TXT->enquiries_more_than, columns);
        else if (list.with_total)
            console_table_begin(&page, "queue", found->total, TXT->enquiries_found, columns);
        else
            console_table_begin(&page, "queue", found->n_enquiries, TXT->matches_shown, columns);
        for (size_t i = 0; i < found->n_enquiries; i++)
            s_row(&page, found->enquiries[i]);
        console_table_end(&page);
        if (found->n_enquiries == 0)
            console_put(&page, "<p>%s</p>\n", TXT->queue_empty);
        if (*found->next_page_token) {
            console_put(&page, "<p><a id=\"next-page\" href=\"");
            s_view_link(&page, &statuses, found->next_page_token);
            console_put(&page, "\">%s</a></p>\n", TXT->next_page);
        }
    }
    dp_message_free((ProtobufCMessage **)&kinds);
    dp_message_free((ProtobufCMessage **)&found);
    return console_page_end(&page, code);
}
