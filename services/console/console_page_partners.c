/* The register: partners with their names over time and as-of views,
   contacts (each read recorded by the registry, as for any staff read),
   engagements, withdrawals, areas and forms. Agents read; admins edit. */
#include <inttypes.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "console_html.h"
#include "registry.pb-c.h"

static const char *s_kind_label(Dp__PartnerKind kind)
{
    return kind == DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION ? TXT->kind_association
                                                              : TXT->kind_company;
}

static const char *s_status_label(const Dp__Partner *partner)
{
    return partner->status == DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN ? TXT->withdrawn
                                                                           : TXT->active;
}

static void s_joined(console_page_t *page, const Dp__Partner *partner)
{
    const char *joined = partner->joined_on;
    /* The date to its known precision: "2017-11" or "2018". */
    int length = partner->joined_precision == DP__DATE_PRECISION__DATE_PRECISION_YEAR    ? 4
                 : partner->joined_precision == DP__DATE_PRECISION__DATE_PRECISION_MONTH ? 7
                                                                                         : 10;
    char shown[11];
    snprintf(shown, sizeof shown, "%.*s", length, joined);
    console_esc(page, shown);
}

/* The reference lists partners and engagements are described with. */
static void s_reference(console_page_t *page)
{
    Dp__ListAreasRequest ask_areas = DP__LIST_AREAS_REQUEST__INIT;
    Dp__ListFormsRequest ask_forms = DP__LIST_FORMS_REQUEST__INIT;
    Dp__ListAreasReply *areas = NULL;
    Dp__ListFormsReply *forms = NULL;
    dp_status_t status;
    console_request_t *request = page->request;
    console_call(request, CONSOLE_REGISTRY, &ask_areas.base, &dp__list_areas_reply__descriptor,
                 (ProtobufCMessage **)&areas, &status);
    console_call(request, CONSOLE_REGISTRY, &ask_forms.base, &dp__list_forms_reply__descriptor,
                 (ProtobufCMessage **)&forms, &status);
    static const char *const fields[] = {"slug", "label", NULL};
    static const char *const markup[] = {"<code>", "</code> ", ""};
    console_put(page, "<h2>%s</h2>\n", TXT->areas);
    console_items(page, "areas", TXT->none, areas ? (ProtobufCMessage *const *)areas->areas : NULL,
                  areas ? areas->n_areas : 0, fields, markup);
    console_put(page, "<h2>%s</h2>\n", TXT->forms);
    console_items(page, "forms", TXT->none, forms ? (ProtobufCMessage *const *)forms->forms : NULL,
                  forms ? forms->n_forms : 0, fields, markup);
    dp_message_free((ProtobufCMessage **)&areas);
    dp_message_free((ProtobufCMessage **)&forms);
}

console_result_t console_page_partners(console_request_t *request)
{
    Dp__ListPartnersRequest list = DP__LIST_PARTNERS_REQUEST__INIT;
    list.name_search = (char *)console_arg(request, "q");
    list.as_of = (char *)console_arg(request, "as_of");
    list.page_token = (char *)console_arg(request, "after");
    list.page_size = 100;
    Dp__ListPartnersReply *found = NULL;
    dp_status_t status;
    if (console_call(request, CONSOLE_REGISTRY, &list.base, &dp__list_partners_reply__descriptor,
                     (ProtobufCMessage **)&found, &status) < 0)
        return console_page_failure(request, &status);
    console_page_t page;
    if (!console_page_begin(&page, request, TXT->partners_title, "partners")) {
        dp_message_free((ProtobufCMessage **)&found);
        return MHD_NO;
    }
    snprintf(page.form_id, sizeof page.form_id, "partner-filters");
    console_put(&page, "<form method=\"get\" action=\"/partners\" id=\"partner-filters\" "
                       "class=\"filters\">\n<div class=\"field\">");
    console_input(&page, "q", TXT->name_search, "search", console_arg(request, "q"), false);
    console_put(&page, "</div><div class=\"field\">");
    console_input(&page, "as_of", TXT->as_of, "date", console_arg(request, "as_of"), false);
    console_put(&page, "</div><button type=\"submit\">%s</button></form>\n", TXT->apply);
    const char *columns[] = {TXT->partner_name, TXT->former_names, TXT->partner_kind,
                             TXT->joined_on,    TXT->status,       NULL};
    console_table_begin(&page, "partners", found->n_partners, TXT->partners_shown, columns);
    for (size_t i = 0; i < found->n_partners; i++) {
        const Dp__Partner *partner = found->partners[i];
        console_put(&page, "<tr><td><a class=\"partner-link\" href=\"/partners/");
        console_esc(&page, partner->slug);
        console_put(&page, "\">");
        console_esc(&page, partner->name);
        console_put(&page, "</a></td><td>");
        console_esc(&page, partner->former_names);
        console_put(&page, "</td><td>%s</td><td>", s_kind_label(partner->kind));
        s_joined(&page, partner);
        console_put(&page, "</td><td>%s</td></tr>\n", s_status_label(partner));
    }
    console_table_end(&page);
    if (*found->next_page_token) {
        console_put(&page, "<p><a id=\"next-page\" href=\"/partners?q=");
        console_url_arg(&page, console_arg(request, "q"));
        console_put(&page, "&amp;as_of=");
        console_url_arg(&page, console_arg(request, "as_of"));
        console_put(&page, "&amp;after=");
        console_url_arg(&page, found->next_page_token);
        console_put(&page, "\">%s</a></p>\n", TXT->next_page);
    }
    s_reference(&page);
    dp_message_free((ProtobufCMessage **)&found);
    return console_page_end(&page, MHD_HTTP_OK);
}

static void s_names(console_page_t *page, const Dp__Partner *partner)
{
    console_put(page, "<h2>%s</h2>\n<ul id=\"names\">\n", TXT->names_over_time);
    for (size_t i = 0; i < partner->n_names; i++) {
        const Dp__PartnerName *name = partner->names[i];
        console_put(page, "<li>");
        console_esc(page, name->name);
        console_put(page, " (");
        console_esc(page, *name->valid_from ? name->valid_from : "?");
        console_put(page, " &ndash; ");
        console_esc(page, *name->valid_to ? name->valid_to : TXT->now);
        console_put(page, ")</li>\n");
    }
    console_put(page, "</ul>\n");
}

static void s_contacts(console_page_t *page, const Dp__Partner *partner)
{
    static const char *const fields[] = {"name", "role", "email", NULL};
    static const char *const markup[] = {"", ", ", ", ", ""};
    console_put(page, "<h2>%s</h2>\n", TXT->contacts);
    console_items(page, "contacts", TXT->none, (ProtobufCMessage *const *)partner->contacts,
                  partner->n_contacts, fields, markup);
}

static void s_engagements(console_page_t *page, const Dp__Partner *partner)
{
    Dp__ListEngagementsRequest list = DP__LIST_ENGAGEMENTS_REQUEST__INIT;
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    ref.id = partner->id;
    list.partner = &ref;
    list.page_size = 100;
    Dp__ListEngagementsReply *found = NULL;
    dp_status_t status;
    console_put(page, "<h2>%s</h2>\n", TXT->engagements);
    if (console_call(page->request, CONSOLE_REGISTRY, &list.base,
                     &dp__list_engagements_reply__descriptor, (ProtobufCMessage **)&found,
                     &status) < 0) {
        console_put(page, "<p role=\"alert\" class=\"error\">");
        console_esc(page, status.message);
        console_put(page, "</p>\n");
        return;
    }
    static const char *const fields[] = {"starts_on", "title", "form", "area", NULL};
    static const char *const markup[] = {"", " ", " (", ", ", ")"};
    console_items(page, "engagements", TXT->none, (ProtobufCMessage *const *)found->engagements,
                  found->n_engagements, fields, markup);
    dp_message_free((ProtobufCMessage **)&found);
}

/* Opens the form of one edit: POST /partners/SLUG/ACTION, id ACTION-form. */
static void s_edit_form(console_page_t *page, const Dp__Partner *partner, const char *action)
{
    char path[128], id[32];
    snprintf(path, sizeof path, "/partners/%s/%s", partner->slug, action);
    snprintf(id, sizeof id, "%s-form", action);
    console_form_begin(page, path, id);
}

static void s_edit_forms(console_page_t *page, const Dp__Partner *partner)
{
    console_put(page, "<h2>%s</h2>\n", TXT->edit);
    s_edit_form(page, partner, "rename");
    console_input(page, "new_name", TXT->new_name, "text", "", true);
    console_input(page, "effective_on", TXT->effective_on, "date", "", false);
    console_form_end(page, TXT->rename);
    s_edit_form(page, partner, "contact");
    console_input(page, "name", TXT->contact_name, "text", "", true);
    console_input(page, "role", TXT->contact_role, "text", "", false);
    console_input(page, "email", TXT->email, "email", "", true);
    console_form_end(page, TXT->add_contact);
    s_edit_form(page, partner, "engagement");
    console_input(page, "title", TXT->engagement_title, "text", "", true);
    console_input(page, "form", TXT->engagement_form, "text", "", true);
    console_input(page, "area", TXT->area_slug, "text", "", true);
    console_input(page, "starts_on", TXT->starts_on, "date", "", true);
    console_form_end(page, TXT->record_engagement);
    if (partner->status == DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN)
        return;
    s_edit_form(page, partner, "withdraw");
    console_input(page, "withdrawn_on", TXT->withdrawn_on, "date", "", true);
    console_input(page, "note", TXT->note_optional, "text", "", false);
    console_form_end(page, TXT->withdraw);
}

console_result_t console_page_partner(console_request_t *request, const char *slug)
{
    Dp__GetPartnerRequest ask = DP__GET_PARTNER_REQUEST__INIT;
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    ref.slug = (char *)slug;
    ask.partner = &ref;
    ask.as_of = (char *)console_arg(request, "as_of");
    Dp__GetPartnerReply *reply = NULL;
    dp_status_t status;
    if (console_call(request, CONSOLE_REGISTRY, &ask.base, &dp__get_partner_reply__descriptor,
                     (ProtobufCMessage **)&reply, &status) < 0)
        return console_page_failure(request, &status);
    if (!reply->partner) {
        dp_message_free((ProtobufCMessage **)&reply);
        dp_status_set(&status, DP__CODE__CODE_INTERNAL, NULL, TXT->incomplete_answer);
        return console_page_failure(request, &status);
    }
    const Dp__Partner *partner = reply->partner;
    console_page_t page;
    if (!console_page_begin(&page, request, partner->name, "partners")) {
        dp_message_free((ProtobufCMessage **)&reply);
        return MHD_NO;
    }
    console_put(&page, "<dl>\n<dt>%s</dt><dd>%s</dd>\n<dt>%s</dt><dd>", TXT->partner_kind,
                s_kind_label(partner->kind), TXT->joined_on);
    s_joined(&page, partner);
    console_put(&page, "</dd>\n<dt>%s</dt><dd>", TXT->instrument);
    console_esc(&page, partner->instrument);
    console_put(&page, "</dd>\n<dt>%s</dt><dd>%s", TXT->status, s_status_label(partner));
    if (*partner->withdrawn_on) {
        console_put(&page, " (");
        console_esc(&page, partner->withdrawn_on);
        console_put(&page, ")");
    }
    console_put(&page, "</dd>\n<dt>%s</dt><dd>", TXT->domains);
    for (size_t i = 0; i < partner->n_domains; i++) {
        console_put(&page, "%s", i ? ", " : "");
        console_esc(&page, partner->domains[i]);
    }
    console_put(&page, "</dd>\n<dt>%s</dt><dd>", TXT->areas);
    for (size_t i = 0; i < partner->n_areas; i++) {
        console_put(&page, "%s", i ? ", " : "");
        console_esc(&page, partner->areas[i]);
    }
    console_put(&page, "</dd>\n");
    if (partner->from_enquiry > 0)
        console_put(&page,
                    "<dt>%s</dt><dd><a href=\"/enquiries/%" PRId64 "\">#%" PRId64 "</a></dd>\n",
                    TXT->admitted_from, partner->from_enquiry, partner->from_enquiry);
    console_put(&page, "</dl>\n");
    s_names(&page, partner);
    s_contacts(&page, partner);
    s_engagements(&page, partner);
    if (console_is_admin(request))
        s_edit_forms(&page, partner);
    dp_message_free((ProtobufCMessage **)&reply);
    return console_page_end(&page, MHD_HTTP_OK);
}

/* An admin's edits of one partner. */
static const console_change_t s_edits[] = {
    {"rename",
     CONSOLE_REGISTRY,
     &dp__rename_partner_request__descriptor,
     &dp__rename_partner_reply__descriptor,
     {{"new_name", "new_name"}, {"effective_on", "effective_on"}, {NULL}}},
    {"contact",
     CONSOLE_REGISTRY,
     &dp__add_contact_request__descriptor,
     &dp__add_contact_reply__descriptor,
     {{"name", "name"}, {"role", "role"}, {"email", "email"}, {NULL}}},
    {"engagement",
     CONSOLE_REGISTRY,
     &dp__record_engagement_request__descriptor,
     &dp__record_engagement_reply__descriptor,
     {{"title", "title"}, {"form", "form"}, {"area", "area"}, {"starts_on", "starts_on"}, {NULL}}},
    {"withdraw",
     CONSOLE_REGISTRY,
     &dp__withdraw_partner_request__descriptor,
     &dp__withdraw_partner_reply__descriptor,
     {{"withdrawn_on", "withdrawn_on"}, {"note", "note"}, {NULL}}},
};

static int s_edit(console_request_t *request, const char *slug, const char *action,
                  dp_status_t *status)
{
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    ref.slug = (char *)slug;
    const console_change_t *change =
        console_change_find(s_edits, sizeof s_edits / sizeof *s_edits, action);
    if (change)
        return console_change_send(request, change, 0, &ref.base, status);
    return dp_status_set(status, DP__CODE__CODE_NOT_FOUND, NULL, TXT->unknown_action);
}

console_result_t console_post_partner(console_request_t *request, const char *slug,
                                      const char *action)
{
    dp_status_t status = {.code = DP__CODE__CODE_OK};
    if (s_edit(request, slug, action, &status) < 0)
        return console_page_failure(request, &status);
    char location[128];
    snprintf(location, sizeof location, "/partners/%s?done=saved", slug);
    return console_redirect(request, location);
}
