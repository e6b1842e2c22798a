/* One enquiry: everything the intake holds on it, and what staff do with
   it (assign, move, note, due date, merge, reply, admit as a partner).
   Every change is one request to the intake (or the registry) naming the
   person; the services record it, the page only shows their history. */
#include <inttypes.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console_html.h"
#include "intake.pb-c.h"
#include "registry.pb-c.h"

static void s_term(console_page_t *page, const char *term, const char *value)
{
    console_put(page, "<dt>%s</dt><dd>", term);
    console_esc(page, value && *value ? value : "-");
    console_put(page, "</dd>\n");
}

static void s_term_time(console_page_t *page, const char *term, const char *value)
{
    console_put(page, "<dt>%s</dt><dd>", term);
    if (value && *value)
        console_time(page, value);
    else
        console_put(page, "-");
    console_put(page, "</dd>\n");
}

static void s_list(console_page_t *page, char **items, size_t count)
{
    if (count == 0)
        console_put(page, "-");
    for (size_t i = 0; i < count; i++) {
        console_put(page, "%s", i ? ", " : "");
        console_esc(page, items[i]);
    }
}

static void s_details(console_page_t *page, const Dp__Enquiry *enquiry)
{
    console_put(page, "<section aria-labelledby=\"h-details\"><h2 id=\"h-details\">%s</h2>\n<dl>\n",
                TXT->details);
    s_term(page, TXT->status, console_status_label(enquiry->status));
    s_term(page, TXT->assignee, enquiry->assignee);
    s_term(page, TXT->due, enquiry->due_on);
    s_term(page, TXT->sender, enquiry->sender_name);
    s_term(page, TXT->email, enquiry->email);
    s_term(page, TXT->organisation, enquiry->organisation);
    s_term(page, TXT->country, enquiry->country);
    s_term(page, TXT->kind, enquiry->kind);
    s_term(page, TXT->source, enquiry->source);
    s_term(page, TXT->language, enquiry->language);
    s_term_time(page, TXT->received, enquiry->received_at);
    s_term_time(page, TXT->first_response, enquiry->first_response_at);
    s_term_time(page, TXT->resolved, enquiry->resolved_at);
    if (*enquiry->outcome)
        s_term(page, TXT->outcome, enquiry->outcome);
    if (enquiry->merged_into > 0)
        console_put(page,
                    "<dt>%s</dt><dd><a href=\"/enquiries/%" PRId64 "\">#%" PRId64 "</a></dd>\n",
                    TXT->merged_into, enquiry->merged_into, enquiry->merged_into);
    console_put(page, "</dl>\n<h3>");
    console_esc(page, enquiry->subject);
    console_put(page, "</h3>\n<div class=\"body\">");
    console_esc(page, enquiry->body);
    console_put(page, "</div>\n</section>\n");
}

static void s_triage(console_page_t *page, const Dp__Enquiry *enquiry)
{
    console_put(page, "<section aria-labelledby=\"h-triage\"><h2 id=\"h-triage\">%s</h2>\n<dl>\n",
                TXT->triage);
    console_put(page, "<dt>%s</dt><dd>", TXT->partner);
    if (enquiry->partner_id > 0) {
        console_put(page, "<a href=\"/partners/");
        console_esc(page, enquiry->partner_slug);
        console_put(page, "\">");
        console_esc(page, enquiry->partner_slug);
        console_put(page, "</a>");
    } else
        console_put(page, "%s", TXT->no_partner);
    console_put(page, "</dd>\n<dt>%s</dt><dd>", TXT->areas_submitted);
    s_list(page, enquiry->areas, enquiry->n_areas);
    console_put(page, "</dd>\n<dt>%s</dt><dd>", TXT->areas_suggested);
    s_list(page, enquiry->suggested_areas, enquiry->n_suggested_areas);
    console_put(page, "</dd>\n");
    if (enquiry->possible_duplicate_of > 0)
        console_put(page,
                    "<dt>%s</dt><dd><a id=\"duplicate-of\" href=\"/enquiries/%" PRId64
                    "\">#%" PRId64 "</a></dd>\n",
                    TXT->possible_duplicate, enquiry->possible_duplicate_of,
                    enquiry->possible_duplicate_of);
    if (*enquiry->quarantine_reason)
        s_term(page, TXT->quarantine_reason, enquiry->quarantine_reason);
    console_put(page, "</dl>\n</section>\n");
}

static void s_history(console_page_t *page, const Dp__Enquiry *enquiry)
{
    console_put(page,
                "<section aria-labelledby=\"h-history\"><h2 id=\"h-history\">%s</h2>\n"
                "<ol id=\"history\">\n",
                TXT->history);
    for (size_t i = 0; i < enquiry->n_history; i++) {
        const Dp__EnquiryTransition *step = enquiry->history[i];
        console_put(page, "<li>");
        console_time(page, step->at);
        console_put(page, " <span class=\"actor\">");
        console_esc(page, step->actor);
        console_put(page, "</span>: ");
        if (step->from_status == step->to_status)
            console_put(page, "%s", console_status_label(step->to_status));
        else if (step->from_status == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_UNSPECIFIED)
            console_put(page, "%s", console_status_label(step->to_status));
        else
            console_put(page, "%s &rarr; %s", console_status_label(step->from_status),
                        console_status_label(step->to_status));
        if (*step->note) {
            console_put(page, " <q>");
            console_esc(page, step->note);
            console_put(page, "</q>");
        }
        console_put(page, "</li>\n");
    }
    console_put(page, "</ol>\n</section>\n");
}

static void s_notes(console_page_t *page, const Dp__Enquiry *enquiry)
{
    static const char *const fields[] = {"@at", "actor", "text", NULL};
    static const char *const markup[] = {"", " <span class=\"actor\">",
                                         "</span>: <span class=\"note\">", "</span>"};
    console_put(page, "<section aria-labelledby=\"h-notes\"><h2 id=\"h-notes\">%s</h2>\n",
                TXT->notes);
    console_items(page, "notes", TXT->no_notes, (ProtobufCMessage *const *)enquiry->notes,
                  enquiry->n_notes, fields, markup);
    console_put(page, "</section>\n");
}

static void s_messages(console_page_t *page, const Dp__Enquiry *enquiry)
{
    console_put(page, "<section aria-labelledby=\"h-messages\"><h2 id=\"h-messages\">%s</h2>\n",
                TXT->messages);
    if (enquiry->n_messages == 0)
        console_put(page, "<p>%s</p>\n", TXT->no_messages);
    console_put(page, "<ul id=\"messages\">\n");
    for (size_t i = 0; i < enquiry->n_messages; i++) {
        const Dp__OutgoingMessage *message = enquiry->messages[i];
        console_put(page, "<li><p><strong>");
        console_esc(page, message->subject);
        console_put(page, "</strong> (<span class=\"message-status\">");
        console_esc(page, message->status);
        console_put(page, "</span>) ");
        console_esc(page, message->author);
        console_put(page, ", ");
        console_time(page, message->created_at);
        if (*message->reason) {
            console_put(page, " - ");
            console_esc(page, message->reason);
        }
        console_put(page, "</p><div class=\"body\">");
        console_esc(page, message->body);
        console_put(page, "</div></li>\n");
    }
    console_put(page, "</ul>\n</section>\n");
}

static bool s_open(const Dp__Enquiry *enquiry)
{
    switch (enquiry->status) {
    case DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED:
    case DP__ENQUIRY_STATUS__ENQUIRY_STATUS_TRIAGED:
    case DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ASSIGNED:
    case DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED:
        return true;
    default:
        return false;
    }
}

static void s_action_path(char *path, size_t size, int64_t id, const char *action)
{
    snprintf(path, size, "/enquiries/%" PRId64 "/%s", id, action);
}

static void s_assign_forms(console_page_t *page, const Dp__Enquiry *enquiry, char **names,
                           size_t count)
{
    char path[64];
    s_action_path(path, sizeof path, enquiry->id, "assign");
    console_form_begin(page, path, "assign-me-form");
    console_put(page,
                "<input type=\"hidden\" name=\"assignee\" value=\"me\">\n"
                "<button type=\"submit\" id=\"assign-me\">%s</button>\n</form>\n",
                TXT->assign_to_me);
    console_form_begin(page, path, "assign-form");
    console_select(page, "assignee", TXT->assign_to, (const char *const *)names, NULL, count,
                   enquiry->assignee);
    console_input(page, "note", TXT->note_optional, "text", "", false);
    console_form_end(page, TXT->assign);
}

static void s_transition_form(console_page_t *page, const Dp__Enquiry *enquiry)
{
    if (enquiry->n_allowed_moves == 0)
        return;
    char path[64];
    s_action_path(path, sizeof path, enquiry->id, "transition");
    const char *values[16], *labels[16];
    size_t count = 0;
    for (size_t i = 0; i < enquiry->n_allowed_moves && count < 16; i++) {
        /* Assigning has its own form; answering happens by replying. */
        if (enquiry->allowed_moves[i] == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ASSIGNED)
            continue;
        values[count] = console_status_slug(enquiry->allowed_moves[i]);
        labels[count++] = console_status_label(enquiry->allowed_moves[i]);
    }
    if (count == 0)
        return;
    console_form_begin(page, path, "transition-form");
    console_select(page, "to", TXT->move_to, values, labels, count, NULL);
    console_input(page, "note", TXT->note_optional, "text", "", false);
    console_form_end(page, TXT->move);
}

static void s_admit_form(console_page_t *page, const Dp__Enquiry *enquiry)
{
    char path[64], today[11], domain[256] = "";
    s_action_path(path, sizeof path, enquiry->id, "admit");
    time_t now = time(NULL);
    struct tm local;
    localtime_r(&now, &local);
    strftime(today, sizeof today, "%Y-%m-%d", &local);
    const char *at = strrchr(enquiry->email, '@');
    if (at)
        snprintf(domain, sizeof domain, "%s", at + 1);
    console_put(page, "<h3>%s</h3>\n", TXT->admit_title);
    console_form_begin(page, path, "admit-form");
    console_input(page, "name", TXT->partner_name, "text",
                  *enquiry->organisation ? enquiry->organisation : enquiry->sender_name, true);
    console_input(page, "slug", TXT->partner_slug, "text", "", true);
    static const char *const kinds[] = {"company", "association"};
    const char *kind_labels[] = {TXT->kind_company, TXT->kind_association};
    console_select(page, "kind", TXT->partner_kind, kinds, kind_labels, 2, "company");
    console_input(page, "domains", TXT->domains, "text", domain, false);
    console_input(page, "joined_on", TXT->joined_on, "date", today, true);
    static const char *const precisions[] = {"day", "month", "year"};
    const char *precision_labels[] = {TXT->precision_day, TXT->precision_month,
                                      TXT->precision_year};
    console_select(page, "joined_precision", TXT->joined_precision, precisions, precision_labels, 3,
                   "day");
    console_form_end(page, TXT->admit);
}

static void s_actions(console_page_t *page, const Dp__Enquiry *enquiry, char **names, size_t count)
{
    char path[64];
    console_put(page, "<section aria-labelledby=\"h-actions\"><h2 id=\"h-actions\">%s</h2>\n",
                TXT->actions);
    s_assign_forms(page, enquiry, names, count);
    s_transition_form(page, enquiry);

    s_action_path(path, sizeof path, enquiry->id, "note");
    console_form_begin(page, path, "note-form");
    console_textarea(page, "text", TXT->note, "", true);
    console_form_end(page, TXT->add_note);

    s_action_path(path, sizeof path, enquiry->id, "due");
    console_form_begin(page, path, "due-form");
    console_input(page, "due_on", TXT->due_on, "date", enquiry->due_on, true);
    console_textarea(page, "reason", TXT->reason, "", true);
    console_form_end(page, TXT->change_due);

    if (enquiry->possible_duplicate_of > 0 && s_open(enquiry)) {
        s_action_path(path, sizeof path, enquiry->id, "merge");
        console_form_begin(page, path, "merge-form");
        console_put(page, "<input type=\"hidden\" name=\"into\" value=\"%" PRId64 "\">\n",
                    enquiry->possible_duplicate_of);
        console_put(page, "<p>%s #%" PRId64 "</p>\n", TXT->merge_explain,
                    enquiry->possible_duplicate_of);
        console_input(page, "note", TXT->note_optional, "text", "", false);
        console_form_end(page, TXT->merge);
    }

    if (enquiry->status == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ASSIGNED ||
        enquiry->status == DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ANSWERED) {
        char subject[400];
        snprintf(subject, sizeof subject, "Re: %s", enquiry->subject);
        s_action_path(path, sizeof path, enquiry->id, "reply");
        console_put(page, "<h3>%s</h3>\n", TXT->reply_title);
        console_form_begin(page, path, "reply-form");
        console_input(page, "subject", TXT->subject, "text", subject, true);
        console_textarea(page, "body", TXT->reply_body, "", true);
        console_form_end(page, TXT->send_reply);
    } else
        console_put(page, "<p class=\"muted\">%s</p>\n", TXT->reply_needs_assignee);

    if (console_is_admin(page->request) && strcmp(enquiry->kind, "membership-application") == 0 &&
        enquiry->partner_id == 0 && enquiry->status != DP__ENQUIRY_STATUS__ENQUIRY_STATUS_CLOSED &&
        enquiry->status != DP__ENQUIRY_STATUS__ENQUIRY_STATUS_REJECTED)
        s_admit_form(page, enquiry);
    console_put(page, "</section>\n");
}

console_result_t console_page_enquiry(console_request_t *request, int64_t id)
{
    Dp__GetEnquiryRequest ask = DP__GET_ENQUIRY_REQUEST__INIT;
    ask.id = id;
    Dp__GetEnquiryReply *reply = NULL;
    dp_status_t status;
    if (console_call(request, CONSOLE_INTAKE, &ask.base, &dp__get_enquiry_reply__descriptor,
                     (ProtobufCMessage **)&reply, &status) < 0)
        return console_page_failure(request, &status);
    /* An answer is data from the network: one without its enquiry is refused, not read. */
    if (!reply->enquiry) {
        dp_message_free((ProtobufCMessage **)&reply);
        dp_status_set(&status, DP__CODE__CODE_INTERNAL, NULL, TXT->incomplete_answer);
        return console_page_failure(request, &status);
    }
    dp_arena_t *arena = dp_arena_new();
    char **names = NULL;
    size_t count = 0;
    if (!arena || console_db_staff_names(request->worker->db, arena, &names, &count) < 0)
        count = 0;
    const Dp__Enquiry *enquiry = reply->enquiry;
    char title[64];
    snprintf(title, sizeof title, "%s #%" PRId64, TXT->enquiry, enquiry->id);
    console_page_t page;
    console_result_t result = MHD_NO;
    if (console_page_begin(&page, request, title, "queue")) {
        console_put(&page, "<div class=\"columns\"><div class=\"column\">\n");
        s_details(&page, enquiry);
        s_messages(&page, enquiry);
        s_history(&page, enquiry);
        s_notes(&page, enquiry);
        console_put(&page, "</div><div class=\"column\">\n");
        s_triage(&page, enquiry);
        s_actions(&page, enquiry, names, count);
        console_put(&page, "</div></div>\n");
        result = console_page_end(&page, MHD_HTTP_OK);
    }
    dp_arena_destroy(&arena);
    dp_message_free((ProtobufCMessage **)&reply);
    return result;
}

/* ---- the changes ------------------------------------------------------------------ */

/* Sends one change to a service; on success the answer is dropped. */
static int s_change(console_request_t *request, console_peer_t peer, const ProtobufCMessage *change,
                    const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply_out,
                    dp_status_t *status)
{
    ProtobufCMessage *reply = NULL;
    int outcome = console_call(request, peer, change, reply_type, &reply, status);
    if (reply_out)
        *reply_out = reply;
    else
        dp_message_free(&reply);
    return outcome;
}

static int s_admit(console_request_t *request, int64_t id, dp_status_t *status)
{
    Dp__CreatePartnerRequest create = DP__CREATE_PARTNER_REQUEST__INIT;
    create.name = (char *)console_field(request, "name");
    create.slug = (char *)console_field(request, "slug");
    const char *kind = console_field(request, "kind");
    create.kind = strcmp(kind, "association") == 0 ? DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION
                                                   : DP__PARTNER_KIND__PARTNER_KIND_COMPANY;
    create.joined_on = (char *)console_field(request, "joined_on");
    const char *precision = console_field(request, "joined_precision");
    create.joined_precision =
        strcmp(precision, "year") == 0    ? DP__DATE_PRECISION__DATE_PRECISION_YEAR
        : strcmp(precision, "month") == 0 ? DP__DATE_PRECISION__DATE_PRECISION_MONTH
                                          : DP__DATE_PRECISION__DATE_PRECISION_DAY;
    create.instrument = "exchange of letters";
    create.from_enquiry = id;
    /* Domains: separated by commas or spaces. */
    char *domains = strdup(console_field(request, "domains"));
    char *list[16];
    size_t count = 0;
    char *saveptr = NULL;
    for (char *one = domains ? strtok_r(domains, ", ", &saveptr) : NULL; one && count < 16;
         one = strtok_r(NULL, ", ", &saveptr))
        list[count++] = one;
    create.domains = list;
    create.n_domains = count;
    Dp__CreatePartnerReply *made = NULL;
    int outcome =
        s_change(request, CONSOLE_REGISTRY, &create.base, &dp__create_partner_reply__descriptor,
                 (ProtobufCMessage **)&made, status);
    free(domains);
    if (outcome < 0)
        return -1;
    if (!made->partner) {
        dp_message_free((ProtobufCMessage **)&made);
        return dp_status_set(status, DP__CODE__CODE_INTERNAL, NULL, TXT->incomplete_answer);
    }
    /* The partner exists (made now or by an earlier attempt): link and close. A
       failure here leaves the partner made and the application open: the
       same form again finds that partner (already_created) and closes it. */
    Dp__RecordAdmissionRequest record = DP__RECORD_ADMISSION_REQUEST__INIT;
    record.id = id;
    record.actor = request->person; /* read only without CURVE */
    record.partner_id = made->partner->id;
    record.partner_slug = made->partner->slug;
    outcome = s_change(request, CONSOLE_INTAKE, &record.base,
                       &dp__record_admission_reply__descriptor, NULL, status);
    dp_message_free((ProtobufCMessage **)&made);
    return outcome;
}

/* The changes of this page other than admitting. */
static const console_change_t s_changes[] = {
    {"assign",
     CONSOLE_INTAKE,
     &dp__assign_enquiry_request__descriptor,
     &dp__assign_enquiry_reply__descriptor,
     {{"assignee", "assignee"}, {"note", "note"}, {NULL}}},
    {"transition",
     CONSOLE_INTAKE,
     &dp__transition_enquiry_request__descriptor,
     &dp__transition_enquiry_reply__descriptor,
     {{"to", "to_status"}, {"note", "note"}, {NULL}}},
    {"note",
     CONSOLE_INTAKE,
     &dp__add_enquiry_note_request__descriptor,
     &dp__add_enquiry_note_reply__descriptor,
     {{"text", "text"}, {NULL}}},
    {"due",
     CONSOLE_INTAKE,
     &dp__change_due_date_request__descriptor,
     &dp__change_due_date_reply__descriptor,
     {{"due_on", "due_on"}, {"reason", "reason"}, {NULL}}},
    {"merge",
     CONSOLE_INTAKE,
     &dp__merge_enquiry_request__descriptor,
     &dp__merge_enquiry_reply__descriptor,
     {{"into", "into_id"}, {"note", "note"}, {NULL}}},
    {"reply",
     CONSOLE_INTAKE,
     &dp__reply_to_enquiry_request__descriptor,
     &dp__reply_to_enquiry_reply__descriptor,
     {{"subject", "subject"}, {"body", "body"}, {NULL}}},
};

static int s_apply(console_request_t *request, int64_t id, const char *action, dp_status_t *status)
{
    const console_change_t *change =
        console_change_find(s_changes, sizeof s_changes / sizeof *s_changes, action);
    if (change)
        return console_change_send(request, change, id, NULL, status);
    if (strcmp(action, "admit") == 0) {
        if (console_is_admin(request))
            return s_admit(request, id, status);
        return dp_status_set(status, DP__CODE__CODE_PERMISSION_DENIED, NULL, TXT->admins_only);
    }
    return dp_status_set(status, DP__CODE__CODE_NOT_FOUND, NULL, TXT->unknown_action);
}

console_result_t console_post_enquiry(console_request_t *request, int64_t id, const char *action)
{
    dp_status_t status = {.code = DP__CODE__CODE_OK};
    if (s_apply(request, id, action, &status) < 0)
        return console_page_failure(request, &status);
    char location[96];
    snprintf(location, sizeof location, "/enquiries/%" PRId64 "?done=%s", id, action);
    return console_redirect(request, location);
}
