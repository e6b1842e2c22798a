/* dpctl partner add | update | rename | withdraw: each prints the partner
   as the registry has it afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl_partner.h"
#include "dpctl_proto.h"

static const dpctl_option_t s_add_options[] = {
    {"slug", DPCTL_TEXT, "SLUG", "stable identifier: lower-case letters, digits, hyphens",
     .required = true},
    {"name", DPCTL_TEXT, "NAME", "the partner's name", .required = true},
    {"kind", DPCTL_CHOICE, NULL, "company or association", .required = true,
     .choices = &dp__partner_kind__descriptor},
    {"joined-on", DPCTL_DATE, "DATE", "date of joining (first of the month or year if less known)",
     .required = true},
    {"precision", DPCTL_CHOICE, NULL, "how precisely the joining date is known (default day)",
     .choices = &dp__date_precision__descriptor},
    {"website", DPCTL_TEXT, "URL", "the partner's website"},
    {"domain", DPCTL_TEXT, "DOMAIN", "an e-mail domain of the partner", .repeated = true},
    {"area", DPCTL_TEXT, "SLUG", "a declared area of cooperation", .repeated = true},
    {"instrument", DPCTL_TEXT, "TEXT", "how it joined (default \"exchange of letters\")"},
    {"note", DPCTL_TEXT, "TEXT", "a note for staff"},
    {NULL}};

static const dpctl_spec_t s_add_spec = {"partner add", "", "Add a partner.", 0, 0, s_add_options};

static int s_partner_add(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__CreatePartnerRequest request = DP__CREATE_PARTNER_REQUEST__INIT;
    request.slug = (char *)dpctl_args_text(args, "slug", "");
    request.name = (char *)dpctl_args_text(args, "name", "");
    request.kind = dpctl_args_choice(args, "kind", 0);
    request.joined_on = (char *)dpctl_args_text(args, "joined-on", "");
    request.joined_precision =
        dpctl_args_choice(args, "precision", DP__DATE_PRECISION__DATE_PRECISION_DAY);
    request.website = (char *)dpctl_args_text(args, "website", "");
    request.domains = dpctl_args_list(args, "domain", &request.n_domains);
    request.areas = dpctl_args_list(args, "area", &request.n_areas);
    request.instrument = (char *)dpctl_args_text(args, "instrument", "");
    request.note = (char *)dpctl_args_text(args, "note", "");
    outcome = dpctl_partner_call(self, &request.base, &dp__create_partner_reply__descriptor, NULL);
    return outcome;
}

int dpctl_partner_add_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_add_spec, argc, argv, s_partner_add);
}

static const dpctl_option_t s_update_options[] = {
    {"website", DPCTL_TEXT, "URL", "new website (\"\" clears it)"},
    {"kind", DPCTL_CHOICE, NULL, "new kind", .choices = &dp__partner_kind__descriptor},
    {"domain", DPCTL_TEXT, "DOMAIN", "the e-mail domains, replacing the old list",
     .repeated = true},
    {"no-domains", DPCTL_FLAG, NULL, "remove every e-mail domain"},
    {"area", DPCTL_TEXT, "SLUG", "the declared areas, replacing the old list", .repeated = true},
    {"no-areas", DPCTL_FLAG, NULL, "remove every declared area"},
    {"note", DPCTL_TEXT, "TEXT", "new note"},
    {"joined-on", DPCTL_DATE, "DATE", "corrected date of joining"},
    {"precision", DPCTL_CHOICE, NULL, "precision of --joined-on (default day)",
     .choices = &dp__date_precision__descriptor},
    {"instrument", DPCTL_TEXT, "TEXT", "new instrument of joining"},
    {"expected-version", DPCTL_NUMBER, "N", "refuse unless the partner is at version N"},
    {NULL}};

static const dpctl_spec_t s_update_spec = {
    "partner update",
    "ID|SLUG",
    "Change a partner's details; only the fields named by options change.",
    1,
    1,
    s_update_options};

/* Which option changes which field of the update mask. */
static const struct {
    const char *option; /* the option on the command line */
    const char *field;  /* the field it names in update_mask */
} s_mask_fields[] = {
    {"website", "website"},    {"kind", "kind"},           {"domain", "domains"},
    {"no-domains", "domains"}, {"area", "areas"},          {"no-areas", "areas"},
    {"note", "note"},          {"joined-on", "joined_on"}, {"instrument", "instrument"},
};

enum { S_MASK_MAX = sizeof s_mask_fields / sizeof s_mask_fields[0] };

/* Fills mask from the options given; returns 0 or a usage error. */
static int s_update_mask(const dpctl_args_t *args, char **mask, size_t *count)
{
    if (dpctl_args_has(args, "domain") && dpctl_args_has(args, "no-domains"))
        return dpctl_args_error(args, "--domain and --no-domains exclude each other");
    if (dpctl_args_has(args, "area") && dpctl_args_has(args, "no-areas"))
        return dpctl_args_error(args, "--area and --no-areas exclude each other");
    if (dpctl_args_has(args, "precision") && !dpctl_args_has(args, "joined-on"))
        return dpctl_args_error(args, "--precision goes with --joined-on");
    *count = 0;
    for (size_t i = 0; i < S_MASK_MAX; i++)
        if (dpctl_args_has(args, s_mask_fields[i].option))
            mask[(*count)++] = (char *)s_mask_fields[i].field;
    if (*count == 0)
        return dpctl_args_error(args, "nothing to change: give at least one field's option");
    return 0;
}

static void s_update_request(const dpctl_args_t *args, Dp__UpdatePartnerRequest *request)
{
    request->website = (char *)dpctl_args_text(args, "website", "");
    request->kind = dpctl_args_choice(args, "kind", 0);
    request->domains = dpctl_args_list(args, "domain", &request->n_domains);
    request->areas = dpctl_args_list(args, "area", &request->n_areas);
    request->note = (char *)dpctl_args_text(args, "note", "");
    request->joined_on = (char *)dpctl_args_text(args, "joined-on", "");
    request->joined_precision =
        dpctl_args_choice(args, "precision", DP__DATE_PRECISION__DATE_PRECISION_DAY);
    request->instrument = (char *)dpctl_args_text(args, "instrument", "");
    request->expected_version = dpctl_args_number(args, "expected-version", 0);
}

int dpctl_partner_update_run(dpctl_t *self, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_update_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    char *mask[S_MASK_MAX];
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__UpdatePartnerRequest request = DP__UPDATE_PARTNER_REQUEST__INIT;
    request.partner = &ref;
    request.update_mask = mask;
    outcome = s_update_mask(args, mask, &request.n_update_mask);
    if (outcome != DPCTL_EXIT_OK) {
        dpctl_args_destroy(&args);
        return outcome;
    }
    s_update_request(args, &request);
    return dpctl_partner_finish(self, &args, &ref, &request.base,
                                &dp__update_partner_reply__descriptor, NULL);
}

static const dpctl_option_t s_rename_options[] = {
    {"name", DPCTL_TEXT, "NAME", "the new name", .required = true},
    {"effective-on", DPCTL_DATE, "DATE", "when the new name took effect (omit when not known)"},
    {NULL}};

static const dpctl_spec_t s_rename_spec = {
    "partner rename",
    "ID|SLUG",
    "Record a partner's new name; the old one stays in its history.",
    1,
    1,
    s_rename_options};

static const dpctl_option_t s_withdraw_options[] = {
    {"on", DPCTL_DATE, "DATE", "the date of withdrawal (default today)"},
    {"note", DPCTL_TEXT, "TEXT", "why, or a reference"},
    {NULL}};

static const dpctl_spec_t s_withdraw_spec = {
    "partner withdraw", "ID|SLUG", "Record that a partner left the partnership.", 1, 1,
    s_withdraw_options};

/* rename and withdraw: a partner and two texts, each a request field set
   from an option. */
static const struct {
    const char *name;                               /* the command's word */
    const dpctl_spec_t *spec;                       /* its options */
    const ProtobufCMessageDescriptor *request_type; /* what it asks the registry */
    const ProtobufCMessageDescriptor *reply_type;   /* which holds the partner afterwards */
    const char *fields[2];                          /* the request's text fields ... */
    const char *options[2];                         /* ... and the options they come from */
} s_changes[] = {
    {"rename",
     &s_rename_spec,
     &dp__rename_partner_request__descriptor,
     &dp__rename_partner_reply__descriptor,
     {"new_name", "effective_on"},
     {"name", "effective-on"}},
    {"withdraw",
     &s_withdraw_spec,
     &dp__withdraw_partner_request__descriptor,
     &dp__withdraw_partner_reply__descriptor,
     {"withdrawn_on", "note"},
     {"on", "note"}},
};

int dpctl_partner_change_run(dpctl_t *self, int argc, char **argv)
{
    size_t kind = strcmp(argv[0], s_changes[0].name) == 0 ? 0 : 1;
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(s_changes[kind].spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    ProtobufCMessage *request = dpctl_message_new(s_changes[kind].request_type);
    if (!request) {
        dpctl_args_destroy(&args);
        return DPCTL_EXIT_FAILURE;
    }
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    dpctl_field_set_message(request, "partner", &ref.base);
    for (size_t i = 0; i < 2; i++)
        dpctl_field_set_string(request, s_changes[kind].fields[i],
                               dpctl_args_text(args, s_changes[kind].options[i], ""));
    outcome = dpctl_partner_finish(self, &args, &ref, request, s_changes[kind].reply_type, NULL);
    free(request);
    return outcome;
}
