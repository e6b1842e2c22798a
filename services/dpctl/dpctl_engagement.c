/* dpctl partner engage | engagements: what partners did with the Council. */
#include <inttypes.h>
#include <stdio.h>

#include "dpctl_output.h"
#include "dpctl_partner.h"
#include "dpctl_proto.h"

static const dpctl_option_t s_engage_options[] = {
    {"form", DPCTL_TEXT, "SLUG", "form of cooperation (see 'dpctl form list')", .required = true},
    {"area", DPCTL_TEXT, "SLUG", "area of cooperation (see 'dpctl area list')", .required = true},
    {"title", DPCTL_TEXT, "TEXT", "what it was, e.g. the event's name", .required = true},
    {"starts-on", DPCTL_DATE, "DATE", "first day", .required = true},
    {"ends-on", DPCTL_DATE, "DATE", "last day (omit for a single day)"},
    {"note", DPCTL_TEXT, "TEXT", "a note for staff"},
    {NULL}};

static const dpctl_spec_t s_engage_spec = {
    "partner engage", "ID|SLUG", "Record an engagement of a partner.", 1, 1, s_engage_options};

static const char *s_dates(const Dp__Engagement *engagement, char *buffer, size_t size)
{
    snprintf(buffer, size, "%s%s%s", engagement->starts_on, *engagement->ends_on ? ".." : "",
             engagement->ends_on);
    return buffer;
}

static int s_print_engagement(dpctl_t *self, const Dp__Engagement *engagement)
{
    char dates[64];
    if (!engagement) {
        fprintf(stderr, "dpctl: the registry's reply holds no engagement\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&engagement->base);
    printf("recorded engagement #%" PRId64 " of %s: %s (%s, %s) %s\n", engagement->id,
           engagement->partner_slug, engagement->title, engagement->form, engagement->area,
           s_dates(engagement, dates, sizeof dates));
    return DPCTL_EXIT_OK;
}

static int s_partner_engage(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__RecordEngagementRequest request = DP__RECORD_ENGAGEMENT_REQUEST__INIT;
    request.partner = &ref;
    request.form = (char *)dpctl_args_text(args, "form", "");
    request.area = (char *)dpctl_args_text(args, "area", "");
    request.title = (char *)dpctl_args_text(args, "title", "");
    request.starts_on = (char *)dpctl_args_text(args, "starts-on", "");
    request.ends_on = (char *)dpctl_args_text(args, "ends-on", "");
    request.note = (char *)dpctl_args_text(args, "note", "");
    Dp__RecordEngagementReply *reply = NULL;
    outcome = dpctl_partner_ref(args, 0, &ref);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_REGISTRY, &request.base,
                             &dp__record_engagement_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_engagement(self, reply->engagement);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

int dpctl_partner_engage_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_engage_spec, argc, argv, s_partner_engage);
}

static const dpctl_option_t s_list_options[] = {
    {"form", DPCTL_TEXT, "SLUG", "only engagements of this form"},
    {"area", DPCTL_TEXT, "SLUG", "only engagements in this area"},
    {NULL}};

static const dpctl_spec_t s_list_spec = {
    "partner engagements",
    "[ID|SLUG]",
    "List engagements of one partner, or of every partner when none is named.",
    0,
    1,
    s_list_options};

static int s_list_item(void *sink, const ProtobufCMessage *item)
{
    const Dp__Engagement *engagement = (const Dp__Engagement *)item;
    char id[32], dates[64];
    snprintf(id, sizeof id, "%" PRId64, engagement->id);
    const char *cells[] = {id,
                           engagement->partner_slug,
                           engagement->form,
                           engagement->area,
                           s_dates(engagement, dates, sizeof dates),
                           engagement->title};
    return dpctl_listing_add(sink, item, cells);
}

static int s_list(dpctl_t *self, const dpctl_args_t *args, dpctl_listing_t *listing)
{
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__ListEngagementsRequest request = DP__LIST_ENGAGEMENTS_REQUEST__INIT;
    request.form = (char *)dpctl_args_text(args, "form", "");
    request.area = (char *)dpctl_args_text(args, "area", "");
    if (dpctl_args_operand(args, 0)) {
        request.partner = &ref;
        int outcome = dpctl_partner_ref(args, 0, &ref);
        if (outcome != DPCTL_EXIT_OK)
            return outcome;
    }
    int outcome =
        dpctl_call_pages(self, DPCTL_REGISTRY, &request.base,
                         &dp__list_engagements_reply__descriptor, true, s_list_item, listing);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_listing_print(listing);
    size_t count = dpctl_listing_count(listing);
    if (outcome == DPCTL_EXIT_OK && !self->json)
        printf("\n%zu engagement%s\n", count, count == 1 ? "" : "s");
    return outcome;
}

static int s_partner_engagements(dpctl_t *self, dpctl_args_t *args)
{
    static const char *headers[] = {"ID", "PARTNER", "FORM", "AREA", "DATES", "TITLE"};
    int outcome = DPCTL_EXIT_OK;
    dpctl_listing_t *listing = dpctl_listing_new(self->json, headers, 6);
    outcome = listing ? s_list(self, args, listing) : DPCTL_EXIT_FAILURE;
    dpctl_listing_destroy(&listing);
    return outcome;
}

int dpctl_partner_engagements_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_partner_engagements);
}
