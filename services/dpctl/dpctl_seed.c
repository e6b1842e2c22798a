/* dpctl seed [DIR]: loads DIR/cooperation.tsv (areas and forms) and
   DIR/partners.tsv. Both files are checked in full before anything is sent,
   and what exists already is left alone, so seeding twice adds nothing. */
#include <stdio.h>
#include <string.h>

#include "dp_validate.h"
#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"
#include "dpctl_tsv.h"
#include "registry.pb-c.h"

enum { S_MAX_DOMAINS = 16, S_MAX_NAMES = 8 };

typedef struct {
    size_t created; /* sent and accepted */
    size_t present; /* there before */
} s_tally_t;

typedef struct {
    dpctl_t *ctl;    /* where requests go */
    bool apply;      /* false on the first pass, which only checks the files */
    s_tally_t areas; /* counts for the summary */
    s_tally_t forms;
    s_tally_t partners;
    size_t renamed; /* partners created under a former name and renamed */
} s_seed_t;

/* One row of partners.tsv, ready to send. Strings point into the row. */
typedef struct {
    Dp__CreatePartnerRequest create; /* made under the first (oldest) name */
    char *domains[S_MAX_DOMAINS];    /* create.domains */
    char *names[S_MAX_NAMES + 1];    /* former names oldest first, then the current */
    size_t name_count;               /* entries in names */
    char website[300];               /* https://www.<first domain> */
} s_partner_row_t;

static const dpctl_spec_t s_spec = {
    "seed",
    "[DIR]",
    "Create the areas, forms and partners of DIR/cooperation.tsv and DIR/partners.tsv "
    "(DIR defaults to $DP_SEED_DIR). What exists already is kept.",
    0,
    1,
    NULL};

static int s_row_error(const char *where, const char *what, const char *value)
{
    fprintf(stderr, "dpctl: %s: %s '%s'\n", where, what, value);
    return -1;
}

static void s_failed(const char *where, const char *slug, const dp_status_t *status)
{
    fprintf(stderr, "dpctl: %s: seeding '%s' failed\n", where, slug);
    dpctl_report_status(status);
}

static char *s_trim(char *text)
{
    while (*text == ' ')
        text++;
    size_t length = strlen(text);
    while (length > 0 && text[length - 1] == ' ')
        text[--length] = '\0';
    return text;
}

/* kind, slug, label */
static int s_cooperation_row(void *data, char **columns, size_t count, const char *where)
{
    s_seed_t *seed = data;
    const char *kind = columns[0], *slug = columns[1], *label = columns[2];
    bool is_area = strcmp(kind, "area") == 0;
    if (!is_area && strcmp(kind, "form") != 0)
        return s_row_error(where, "the first column must be area or form, not", kind);
    if (!dp_valid_slug(slug))
        return s_row_error(where, "not a valid slug:", slug);
    if (count < 3 || !dp_valid_required_text(label, 300))
        return s_row_error(where, "a label is missing for", slug);
    if (!seed->apply)
        return 0;
    s_tally_t *tally = is_area ? &seed->areas : &seed->forms;
    dp_status_t status;
    if (dpctl_reference_add(seed->ctl, kind, slug, label, &status) == 0)
        tally->created++;
    else if (status.code == DP__CODE__CODE_ALREADY_EXISTS)
        tally->present++;
    else {
        s_failed(where, slug, &status);
        return -1;
    }
    return 0;
}

/* Splits text at sep into trimmed, non-empty items; returns the count or -1. */
static int s_split(char *text, const char *sep, char **items, size_t room)
{
    size_t count = 0;
    char *saveptr = NULL;
    for (char *item = strtok_r(text, sep, &saveptr); item; item = strtok_r(NULL, sep, &saveptr)) {
        item = s_trim(item);
        if (!*item)
            continue;
        if (count == room)
            return -1;
        items[count++] = item;
    }
    return (int)count;
}

static int s_partner_names(s_partner_row_t *row, char *current, char *former, const char *where)
{
    int count = s_split(former, ";", row->names, S_MAX_NAMES);
    if (count < 0)
        return s_row_error(where, "too many former names for", row->create.slug);
    row->names[count] = s_trim(current);
    row->name_count = (size_t)count + 1;
    if (!dp_valid_required_text(row->names[count], 200))
        return s_row_error(where, "a name is missing for", row->create.slug);
    row->create.name = row->names[0];
    return 0;
}

static int s_partner_domains(s_partner_row_t *row, char *domains, const char *where)
{
    int count = s_split(domains, ",", row->domains, S_MAX_DOMAINS);
    if (count < 0)
        return s_row_error(where, "too many domains for", row->create.slug);
    for (int i = 0; i < count; i++)
        if (!dp_valid_domain(row->domains[i]))
            return s_row_error(where, "not a valid domain:", row->domains[i]);
    row->create.domains = row->domains;
    row->create.n_domains = (size_t)count;
    if (count > 0)
        snprintf(row->website, sizeof row->website, "https://www.%s", row->domains[0]);
    row->create.website = row->website;
    return 0;
}

/* slug, name, kind, joined_on, precision, domains, former_names, note */
static int s_partner_parse(s_partner_row_t *row, char **columns, const char *where)
{
    int kind = 0, precision = DP__DATE_PRECISION__DATE_PRECISION_DAY;
    row->create.slug = columns[0];
    if (!dp_valid_slug(columns[0]))
        return s_row_error(where, "not a valid slug:", columns[0]);
    if (dpctl_enum_parse(&dp__partner_kind__descriptor, columns[2], &kind) != 0)
        return s_row_error(where, "the kind must be company or association, not", columns[2]);
    if (!dp_valid_date(columns[3]))
        return s_row_error(where, "not a date (YYYY-MM-DD):", columns[3]);
    if (*columns[4] && dpctl_enum_parse(&dp__date_precision__descriptor, columns[4], &precision))
        return s_row_error(where, "the precision must be day, month or year, not", columns[4]);
    row->create.kind = kind;
    row->create.joined_on = columns[3];
    row->create.joined_precision = precision;
    row->create.note = columns[7];
    if (s_partner_names(row, columns[1], columns[6], where) != 0)
        return -1;
    return s_partner_domains(row, columns[5], where);
}

/* Gives the partner the later names in turn; the dates of change are not known. */
static int s_rename(s_seed_t *seed, const s_partner_row_t *row, const char *where)
{
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__RenamePartnerRequest request = DP__RENAME_PARTNER_REQUEST__INIT;
    ref.slug = row->create.slug;
    request.partner = &ref;
    for (size_t i = 1; i < row->name_count; i++) {
        dp_status_t status;
        ProtobufCMessage *reply = NULL;
        request.new_name = row->names[i];
        if (dpctl_call_status(seed->ctl, DPCTL_REGISTRY, &request.base,
                              &dp__rename_partner_reply__descriptor, &reply, &status) != 0) {
            s_failed(where, row->create.slug, &status);
            return -1;
        }
        dp_message_free(&reply);
    }
    seed->renamed += row->name_count > 1;
    return 0;
}

/* ALREADY_EXISTS may name a taken e-mail domain rather than the partner:
   it counts as seeded only when the slug is there. */
static bool s_partner_exists(s_seed_t *seed, char *slug)
{
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__GetPartnerRequest request = DP__GET_PARTNER_REQUEST__INIT;
    ref.slug = slug;
    request.partner = &ref;
    dp_status_t status;
    ProtobufCMessage *reply = NULL;
    int found = dpctl_call_status(seed->ctl, DPCTL_REGISTRY, &request.base,
                                  &dp__get_partner_reply__descriptor, &reply, &status);
    dp_message_free(&reply);
    return found == 0;
}

static int s_partner_row(void *data, char **columns, size_t count, const char *where)
{
    s_seed_t *seed = data;
    s_partner_row_t row = {.create = DP__CREATE_PARTNER_REQUEST__INIT};
    if (count < 4)
        return s_row_error(where, "too few columns for", columns[0]);
    if (s_partner_parse(&row, columns, where) != 0)
        return -1;
    if (!seed->apply)
        return 0;
    dp_status_t status;
    ProtobufCMessage *reply = NULL;
    if (dpctl_call_status(seed->ctl, DPCTL_REGISTRY, &row.create.base,
                          &dp__create_partner_reply__descriptor, &reply, &status) == 0) {
        dp_message_free(&reply);
        seed->partners.created++;
        return s_rename(seed, &row, where);
    }
    if (status.code == DP__CODE__CODE_ALREADY_EXISTS && s_partner_exists(seed, row.create.slug)) {
        seed->partners.present++;
        return 0;
    }
    s_failed(where, row.create.slug, &status);
    return -1;
}

static int s_print_summary(const s_seed_t *seed, bool json)
{
    if (json) {
        json_t *document = json_pack(
            "{s:{s:I,s:I}, s:{s:I,s:I}, s:{s:I,s:I,s:I}}", "areas", "created",
            (json_int_t)seed->areas.created, "present", (json_int_t)seed->areas.present, "forms",
            "created", (json_int_t)seed->forms.created, "present", (json_int_t)seed->forms.present,
            "partners", "created", (json_int_t)seed->partners.created, "present",
            (json_int_t)seed->partners.present, "renamed", (json_int_t)seed->renamed);
        return dpctl_json_print(&document);
    }
    printf("areas:    %3zu created, %3zu already present\n", seed->areas.created,
           seed->areas.present);
    printf("forms:    %3zu created, %3zu already present\n", seed->forms.created,
           seed->forms.present);
    printf("partners: %3zu created, %3zu already present (%zu renamed after creation)\n",
           seed->partners.created, seed->partners.present, seed->renamed);
    return DPCTL_EXIT_OK;
}

/* Both files, in order; returns 0 or -1 after saying why. */
static int s_seed_pass(s_seed_t *seed, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cooperation.tsv", dir);
    if (dpctl_tsv_read(path, s_cooperation_row, seed) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/partners.tsv", dir);
    return dpctl_tsv_read(path, s_partner_row, seed);
}

static int s_seed(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *dir = dpctl_args_operand(args, 0);
    if (!dir)
        dir = dp_config_get(self->config, "DP_SEED_DIR");
    s_seed_t seed = {.ctl = self, .apply = false};
    outcome = s_seed_pass(&seed, dir) == 0 ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    seed.apply = true;
    if (outcome == DPCTL_EXIT_OK && s_seed_pass(&seed, dir) != 0)
        outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_summary(&seed, self->json);
    return outcome;
}

int dpctl_seed_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_spec, argc, argv, s_seed);
}
