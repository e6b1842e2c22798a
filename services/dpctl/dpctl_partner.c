/* dpctl partner: the group's table, finding, listing and showing partners. */
#include "dpctl_partner.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl_output.h"
#include "dpctl_proto.h"

static const dpctl_command_t s_commands[] = {
    {"list", "list partners, with filters", dpctl_partner_list_run},
    {"show", "show one partner in full", dpctl_partner_show_run},
    {"add", "add a partner", dpctl_partner_add_run},
    {"update", "change a partner's details", dpctl_partner_update_run},
    {"rename", "record a partner's new name", dpctl_partner_change_run},
    {"withdraw", "record that a partner left the partnership", dpctl_partner_change_run},
    {"contact", "add or remove a partner's contact persons", dpctl_partner_contact_run},
    {"engage", "record an engagement of a partner", dpctl_partner_engage_run},
    {"engagements", "list engagements, of one partner or of all", dpctl_partner_engagements_run},
};

static const dpctl_group_t s_group = {"partner",
                                      "Partners of the Digital Partnership. A partner is named by "
                                      "its id (all digits) or its slug.",
                                      s_commands, sizeof s_commands / sizeof s_commands[0]};

int dpctl_partner_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}

int dpctl_partner_ref(const dpctl_args_t *args, size_t index, Dp__PartnerRef *ref)
{
    const char *text = dpctl_args_operand(args, index);
    if (!text || !*text)
        return dpctl_args_error(args, "a partner (ID or SLUG) is missing");
    if (dpctl_is_number(text))
        ref->id = strtoll(text, NULL, 10);
    else
        ref->slug = (char *)text;
    return 0;
}

const char *dpctl_partner_joined(const Dp__Partner *partner, char *buffer, size_t size)
{
    size_t length = strlen(partner->joined_on);
    if (partner->joined_precision == DP__DATE_PRECISION__DATE_PRECISION_MONTH && length > 7)
        length = 7;
    else if (partner->joined_precision == DP__DATE_PRECISION__DATE_PRECISION_YEAR && length > 4)
        length = 4;
    snprintf(buffer, size, "%.*s", (int)length, partner->joined_on);
    return buffer;
}

static const char *s_status(const Dp__Partner *partner, char *buffer, size_t size)
{
    char label[64];
    snprintf(
        buffer, size, "%s%s%s",
        dpctl_enum_label(&dp__partner_status__descriptor, partner->status, label, sizeof label),
        *partner->withdrawn_on ? " on " : "", partner->withdrawn_on);
    return buffer;
}

static const char *s_or_unknown(const char *date)
{
    return *date ? date : "date not known";
}

static void s_print_names(const Dp__Partner *partner)
{
    for (size_t i = 0; i < partner->n_names; i++) {
        const Dp__PartnerName *name = partner->names[i];
        bool current = i + 1 == partner->n_names;
        printf("%-13s %s, from %s%s%s\n", i ? "" : "names:", name->name,
               s_or_unknown(name->valid_from), current ? "" : " until ",
               current ? " (current)" : s_or_unknown(name->valid_to));
    }
}

static void s_print_contacts(const Dp__Partner *partner)
{
    for (size_t i = 0; i < partner->n_contacts; i++) {
        const Dp__Contact *contact = partner->contacts[i];
        printf("%-13s #%" PRId64 " %s <%s>%s%s%s\n", i ? "" : "contacts:", contact->id,
               contact->name, contact->email, *contact->role ? " (" : "", contact->role,
               *contact->role ? ")" : "");
    }
}

static void s_print_partner(const Dp__Partner *partner, const char *as_of)
{
    char text[256], label[64];
    snprintf(text, sizeof text, "%" PRId64, partner->id);
    dpctl_print_field("id:", text);
    dpctl_print_field("slug:", partner->slug);
    dpctl_print_field("name:", partner->name);
    dpctl_print_field("kind:", dpctl_enum_label(&dp__partner_kind__descriptor, partner->kind, label,
                                                sizeof label));
    dpctl_print_field("status:", s_status(partner, text, sizeof text));
    dpctl_print_field("joined:", dpctl_partner_joined(partner, text, sizeof text));
    dpctl_print_field("instrument:", partner->instrument);
    dpctl_print_field("website:", partner->website);
    dpctl_print_list("domains:", partner->domains, partner->n_domains);
    dpctl_print_list("areas:", partner->areas, partner->n_areas);
    dpctl_print_field("note:", partner->note);
    snprintf(text, sizeof text, "%" PRId64, partner->version);
    dpctl_print_field("version:", text);
    s_print_names(partner);
    s_print_contacts(partner);
    if (as_of && *as_of)
        printf(
            "%-13s %s on %s\n", "membership:",
            dpctl_enum_label(&dp__membership__descriptor, partner->membership, label, sizeof label),
            as_of);
}

int dpctl_partner_call(dpctl_t *self, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *reply_type, const char *as_of)
{
    ProtobufCMessage *reply = NULL;
    int outcome = dpctl_call(self, DPCTL_REGISTRY, request, reply_type, &reply);
    if (outcome != DPCTL_EXIT_OK)
        return outcome;
    const ProtobufCMessage *partner = dpctl_field_message(reply, "partner");
    if (!partner) {
        fprintf(stderr, "dpctl: the registry's reply holds no partner\n");
        outcome = DPCTL_EXIT_FAILURE;
    } else if (self->json)
        outcome = dpctl_json_print_message(partner);
    else
        s_print_partner((const Dp__Partner *)partner, as_of);
    dp_message_free(&reply);
    return outcome;
}

int dpctl_partner_finish(dpctl_t *self, dpctl_args_t **args_p, Dp__PartnerRef *ref,
                         const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *reply_type, const char *as_of)
{
    int outcome = dpctl_partner_ref(*args_p, 0, ref);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_partner_call(self, request, reply_type, as_of);
    dpctl_args_destroy(args_p);
    return outcome;
}

static const dpctl_option_t s_show_options[] = {
    {"as-of", DPCTL_DATE, "DATE", "show the name in force then, and whether it was a partner"},
    {NULL}};

static const dpctl_spec_t s_show_spec = {
    "partner show",
    "ID|SLUG",
    "Show a partner: details, name history, domains, areas and contacts.",
    1,
    1,
    s_show_options};

int dpctl_partner_show_run(dpctl_t *self, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_show_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.as_of = (char *)dpctl_args_text(args, "as-of", "");
    return dpctl_partner_finish(self, &args, &ref, &request.base,
                                &dp__get_partner_reply__descriptor, request.as_of);
}

/* Partners on their way out, counted by kind for the footer. */
typedef struct {
    dpctl_listing_t *listing; /* the table or JSON array */
    size_t companies;         /* partners of each kind seen so far */
    size_t associations;
    size_t others;
} s_listing_t;

static int s_list_item(void *sink, const ProtobufCMessage *item)
{
    s_listing_t *listing = sink;
    const Dp__Partner *partner = (const Dp__Partner *)item;
    if (partner->kind == DP__PARTNER_KIND__PARTNER_KIND_COMPANY)
        listing->companies++;
    else if (partner->kind == DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION)
        listing->associations++;
    else
        listing->others++;
    char name[1024], joined[32], status[64], kind[64], membership[64];
    const char *formerly = *partner->former_names ? " (formerly " : "";
    snprintf(name, sizeof name, "%s%s%s%s", partner->name, formerly, partner->former_names,
             *formerly ? ")" : "");
    const char *cells[] = {
        partner->slug,
        name,
        dpctl_enum_label(&dp__partner_kind__descriptor, partner->kind, kind, sizeof kind),
        dpctl_partner_joined(partner, joined, sizeof joined),
        s_status(partner, status, sizeof status),
        dpctl_enum_label(&dp__membership__descriptor, partner->membership, membership,
                         sizeof membership)};
    return dpctl_listing_add(listing->listing, item, cells);
}

static void s_print_footer(const s_listing_t *listing)
{
    size_t total = listing->companies + listing->associations + listing->others;
    printf("\n%zu partner%s (%zu compan%s, %zu association%s", total, total == 1 ? "" : "s",
           listing->companies, listing->companies == 1 ? "y" : "ies", listing->associations,
           listing->associations == 1 ? "" : "s");
    if (listing->others)
        printf(", %zu of another kind", listing->others);
    printf(")\n");
}

static const dpctl_option_t s_list_options[] = {
    {"kind", DPCTL_CHOICE, NULL, "only partners of this kind",
     .choices = &dp__partner_kind__descriptor},
    {"status", DPCTL_CHOICE, NULL, "only partners with this status",
     .choices = &dp__partner_status__descriptor},
    {"area", DPCTL_TEXT, "SLUG", "only partners that declared this area"},
    {"joined-from", DPCTL_DATE, "DATE", "only partners that joined on or after DATE"},
    {"joined-to", DPCTL_DATE, "DATE", "only partners that joined on or before DATE"},
    {"search", DPCTL_TEXT, "TEXT", "only partners with TEXT in a name, former ones too"},
    {"as-of", DPCTL_DATE, "DATE", "only partners that were (or may have been) partners on DATE"},
    {"page-size", DPCTL_NUMBER, "N", "ask for N partners a page (1..500); alone, print one page"},
    {"page-token", DPCTL_TEXT, "TOKEN", "start at the page a previous listing named"},
    {"all", DPCTL_FLAG, NULL, "follow every page (the default without --page-size/--page-token)"},
    {NULL}};

static const dpctl_spec_t s_list_spec = {
    "partner list", "", "List partners as a table (or a JSON array with --json).", 0, 0,
    s_list_options};

static void s_list_request(const dpctl_args_t *args, Dp__ListPartnersRequest *request)
{
    request->kind = dpctl_args_choice(args, "kind", 0);
    request->status = dpctl_args_choice(args, "status", 0);
    request->area = (char *)dpctl_args_text(args, "area", "");
    request->joined_from = (char *)dpctl_args_text(args, "joined-from", "");
    request->joined_to = (char *)dpctl_args_text(args, "joined-to", "");
    request->name_search = (char *)dpctl_args_text(args, "search", "");
    request->as_of = (char *)dpctl_args_text(args, "as-of", "");
    request->page_size = (uint32_t)dpctl_args_number(args, "page-size", 0);
    request->page_token = (char *)dpctl_args_text(args, "page-token", "");
}

static int s_list(dpctl_t *self, const dpctl_args_t *args, s_listing_t *listing)
{
    static const char *headers[] = {"SLUG", "NAME", "KIND", "JOINED", "STATUS", "MEMBERSHIP"};
    bool as_of = dpctl_args_has(args, "as-of");
    listing->listing = dpctl_listing_new(self->json, headers, as_of ? 6 : 5);
    if (!listing->listing)
        return DPCTL_EXIT_FAILURE;
    Dp__ListPartnersRequest request = DP__LIST_PARTNERS_REQUEST__INIT;
    s_list_request(args, &request);
    bool all = dpctl_args_has(args, "all") ||
               !(dpctl_args_has(args, "page-size") || dpctl_args_has(args, "page-token"));
    int outcome = dpctl_call_pages(self, DPCTL_REGISTRY, &request.base,
                                   &dp__list_partners_reply__descriptor, all, s_list_item, listing);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_listing_print(listing->listing);
    if (outcome == DPCTL_EXIT_OK && !self->json)
        s_print_footer(listing);
    return outcome;
}

static int s_partner_list(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    s_listing_t listing = {0};
    outcome = s_list(self, args, &listing);
    dpctl_listing_destroy(&listing.listing);
    return outcome;
}

int dpctl_partner_list_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_partner_list);
}
