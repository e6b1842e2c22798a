#include "console_html.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intake.pb-c.h"

void console_put(console_page_t *page, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vfprintf(page->out, format, args);
    va_end(args);
}

void console_esc(console_page_t *page, const char *text)
{
    for (const char *c = text ? text : ""; *c; c++)
        switch (*c) {
        case '&':
            fputs("&amp;", page->out);
            break;
        case '<':
            fputs("&lt;", page->out);
            break;
        case '>':
            fputs("&gt;", page->out);
            break;
        case '"':
            fputs("&quot;", page->out);
            break;
        case '\'':
            fputs("&#39;", page->out);
            break;
        default:
            fputc(*c, page->out);
        }
}

void console_url_arg(console_page_t *page, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~", *c))
            fputc(*c, page->out);
        else
            fprintf(page->out, "%%%c%c", hex[*c >> 4], hex[*c & 15]);
    }
}

void console_time(console_page_t *page, const char *rfc3339)
{
    struct tm utc = {0};
    if (!rfc3339 || sscanf(rfc3339, "%4d-%2d-%2dT%2d:%2d:%2d", &utc.tm_year, &utc.tm_mon,
                           &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec) != 6) {
        console_esc(page, rfc3339 && *rfc3339 ? rfc3339 : TXT->never);
        return;
    }
    utc.tm_year -= 1900;
    utc.tm_mon -= 1;
    time_t when = timegm(&utc);
    struct tm local;
    localtime_r(&when, &local);
    char shown[48];
    strftime(shown, sizeof shown, "%Y-%m-%d %H:%M %Z", &local);
    console_put(page, "<time datetime=\"");
    console_esc(page, rfc3339);
    console_put(page, "\">");
    console_esc(page, shown);
    console_put(page, "</time>");
}

static const char *s_text_field(const ProtobufCMessage *message, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(message->descriptor, name);
    if (!field || field->type != PROTOBUF_C_TYPE_STRING ||
        field->label == PROTOBUF_C_LABEL_REPEATED)
        return "";
    const char *value = *(const char *const *)((const char *)message + field->offset);
    return value ? value : "";
}

void console_items(console_page_t *page, const char *id, const char *empty,
                   ProtobufCMessage *const *items, size_t count, const char *const *fields,
                   const char *const *markup)
{
    if (count == 0)
        console_put(page, "<p>%s</p>\n", empty);
    console_put(page, "<ul id=\"%s\">\n", id);
    for (size_t i = 0; i < count; i++) {
        console_put(page, "<li>");
        size_t f = 0;
        for (; fields[f]; f++) {
            console_put(page, "%s", markup[f]);
            if (fields[f][0] == '@')
                console_time(page, s_text_field(items[i], fields[f] + 1));
            else {
                const char *value = s_text_field(items[i], fields[f]);
                console_esc(page, *value ? value : "-");
            }
        }
        console_put(page, "%s</li>\n", markup[f]);
    }
    console_put(page, "</ul>\n");
}

void console_table_begin(console_page_t *page, const char *id, unsigned long long count,
                         const char *what, const char *const *columns)
{
    console_put(page, "<div class=\"table-wrap\"><table id=\"%s\">\n", id);
    if (what)
        console_put(page, "<caption>%llu %s</caption>\n", count, what);
    console_put(page, "<thead><tr>");
    for (size_t i = 0; columns[i]; i++)
        console_put(page, "<th scope=\"col\">%s</th>", columns[i]);
    console_put(page, "</tr></thead>\n<tbody>\n");
}

void console_table_end(console_page_t *page)
{
    console_put(page, "</tbody></table></div>\n");
}

void console_notice(console_page_t *page, const char *role, const char *text)
{
    console_put(page, "<p id=\"flash\" role=\"%s\" class=\"notice %s\">", role,
                strcmp(role, "alert") == 0 ? "error" : "ok");
    console_esc(page, text);
    console_put(page, "</p>\n");
}

/* ---- forms ------------------------------------------------------------------------ */

void console_form_begin(console_page_t *page, const char *action, const char *id)
{
    console_put(page, "<form method=\"post\" action=\"");
    console_esc(page, action);
    console_put(page, "\" id=\"%s\">\n<input type=\"hidden\" name=\"csrf\" value=\"", id);
    snprintf(page->form_id, sizeof page->form_id, "%s", id);
    console_esc(page, page->request->csrf);
    console_put(page, "\">\n");
}

void console_form_end(console_page_t *page, const char *button)
{
    console_put(page, "<button type=\"submit\">");
    console_esc(page, button);
    console_put(page, "</button>\n</form>\n");
}

/* Ids of controls: the form's id and the field's name, unique within a
   page (a GET form sets form_id itself). */
static void s_label(console_page_t *page, const char *name, const char *label, bool required)
{
    console_put(page, "<label for=\"%s-%s\">", page->form_id, name);
    console_esc(page, label);
    if (required)
        console_put(page, " <span class=\"required\">(%s)</span>", TXT->required);
    console_put(page, "</label>\n");
}

void console_input(console_page_t *page, const char *name, const char *label, const char *type,
                   const char *value, bool required)
{
    s_label(page, name, label, required);
    console_put(page, "<input type=\"%s\" id=\"%s-%s\" name=\"%s\" value=\"", type, page->form_id,
                name, name);
    console_esc(page, value);
    console_put(page, "\"%s%s>\n", required ? " required" : "",
                strcmp(type, "password") == 0 ? " autocomplete=\"current-password\"" : "");
}

void console_textarea(console_page_t *page, const char *name, const char *label, const char *value,
                      bool required)
{
    s_label(page, name, label, required);
    console_put(page, "<textarea id=\"%s-%s\" name=\"%s\" rows=\"5\"%s>", page->form_id, name, name,
                required ? " required" : "");
    console_esc(page, value);
    console_put(page, "</textarea>\n");
}

void console_select(console_page_t *page, const char *name, const char *label,
                    const char *const *values, const char *const *labels, size_t count,
                    const char *selected)
{
    s_label(page, name, label, false);
    console_put(page, "<select id=\"%s-%s\" name=\"%s\">\n", page->form_id, name, name);
    for (size_t i = 0; i < count; i++) {
        console_put(page, "<option value=\"");
        console_esc(page, values[i]);
        console_put(page, "\"%s>", selected && strcmp(selected, values[i]) == 0 ? " selected" : "");
        console_esc(page, labels ? labels[i] : values[i]);
        console_put(page, "</option>\n");
    }
    console_put(page, "</select>\n");
}

/* ---- the layout ----------------------------------------------------------------------- */

/* The queue's counts for the navigation; -1 each when the intake is away. */
static void s_counts(console_request_t *request, long long counts[4])
{
    counts[0] = counts[1] = counts[2] = counts[3] = -1;
    Dp__CountEnquiriesRequest ask = DP__COUNT_ENQUIRIES_REQUEST__INIT;
    ask.assignee = request->account.name;
    Dp__CountEnquiriesReply *reply = NULL;
    dp_status_t status;
    if (console_call(request, CONSOLE_INTAKE, &ask.base, &dp__count_enquiries_reply__descriptor,
                     (ProtobufCMessage **)&reply, &status) < 0)
        return;
    counts[0] = (long long)reply->mine;
    counts[1] = (long long)reply->unassigned;
    counts[2] = (long long)reply->due_today;
    counts[3] = (long long)reply->overdue;
    dp_message_free((ProtobufCMessage **)&reply);
}

static void s_count(console_page_t *page, const char *id, long long value)
{
    if (value < 0)
        console_put(page, " <span class=\"count\" id=\"%s\">?</span>", id);
    else
        console_put(page, " <span class=\"count\" id=\"%s\">%lld</span>", id, value);
}

static void s_navigation(console_page_t *page, const char *nav)
{
    console_request_t *request = page->request;
    long long counts[4];
    s_counts(request, counts);
    static const char *const views[] = {"mine", "unassigned", "due-today", "overdue"};
    static const char *const ids[] = {"count-mine", "count-unassigned", "count-due-today",
                                      "count-overdue"};
    const char *labels[] = {TXT->view_mine, TXT->view_unassigned, TXT->view_due_today,
                            TXT->view_overdue};
    console_put(page, "<nav aria-label=\"%s\"><ul class=\"nav\">\n", TXT->nav_label);
    for (size_t i = 0; i < 4; i++) {
        console_put(page, "<li><a href=\"/queue?view=%s\"%s>", views[i],
                    i == 3 && counts[3] > 0 ? " class=\"overdue\"" : "");
        console_esc(page, labels[i]);
        s_count(page, ids[i], counts[i]);
        console_put(page, "</a></li>\n");
    }
    console_put(page, "<li><a href=\"/queue?view=all\">%s</a></li>\n", TXT->view_all);
    console_put(page, "<li><a href=\"/partners\"%s>%s</a></li>\n",
                strcmp(nav, "partners") == 0 ? " aria-current=\"page\"" : "", TXT->nav_partners);
    if (console_is_admin(request)) {
        console_put(page, "<li><a href=\"/admin/staff\">%s</a></li>\n", TXT->nav_staff);
        console_put(page, "<li><a href=\"/admin/events\">%s</a></li>\n", TXT->nav_events);
    }
    console_put(page, "</ul></nav>\n<div class=\"who\"><span>");
    console_esc(page, request->account.name);
    console_put(page, " (%s)</span>\n",
                console_is_admin(request) ? TXT->role_admin : TXT->role_agent);
    console_form_begin(page, "/logout", "logout-form");
    console_form_end(page, TXT->log_out);
    /* Every person may end every session of theirs (a lost laptop). */
    console_form_begin(page, "/logout-everywhere", "logout-everywhere-form");
    console_form_end(page, TXT->log_out_everywhere);
    console_put(page, "</div>\n");
}

bool console_page_begin(console_page_t *page, console_request_t *request, const char *title,
                        const char *nav)
{
    memset(page, 0, sizeof *page);
    page->request = request;
    page->out = open_memstream(&page->text, &page->size);
    if (!page->out)
        return false;
    console_put(page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<title>");
    console_esc(page, title);
    console_put(page,
                " - %s</title>\n<link rel=\"stylesheet\" href=\"/static/console.css\">\n"
                "</head>\n<body>\n<a class=\"skip\" href=\"#main\">%s</a>\n"
                "<header><p class=\"brand\">%s</p>\n",
                TXT->product, TXT->skip_to_content, TXT->product);
    if (request->signed_in)
        s_navigation(page, nav);
    console_put(page, "</header>\n<main id=\"main\" tabindex=\"-1\">\n<h1>");
    console_esc(page, title);
    console_put(page, "</h1>\n");
    const char *done = console_done_text(console_arg(request, "done"));
    if (done)
        console_notice(page, "status", done);
    return true;
}

console_result_t console_page_end(console_page_t *page, unsigned status)
{
    console_put(page, "</main>\n</body>\n</html>\n");
    if (fclose(page->out) != 0) {
        free(page->text);
        return MHD_NO;
    }
    return console_send_html(page->request, status, page->text, page->size);
}
