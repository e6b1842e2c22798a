#include "registry_db.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_codec.h"
#include "dp_format.h"
#include "dp_privacy.h"
#include "privacy.pb-c.h"

/* Statement indexes, in the order of the table below. */
enum {
    LOCK_PARTNER,
    FIND_PARTNER,
    FIND_ADMITTED,
    SELECT_PARTNER,
    GET_PARTNER,
    LIST_PARTNERS,
    SELECT_CONTACTS,
    INSERT_PARTNER,
    UPDATE_PARTNER,
    ALIGN_FIRST_NAME,
    WITHDRAW_PARTNER,
    TOUCH_PARTNER,
    INSERT_NAME,
    CURRENT_NAME,
    DELETE_DOMAINS,
    INSERT_DOMAINS,
    DELETE_AREAS,
    INSERT_AREAS,
    FIND_TAKEN_DOMAIN,
    FIND_UNKNOWN_AREA,
    AREA_EXISTS,
    FORM_EXISTS,
    INSERT_CONTACT,
    DELETE_CONTACT,
    INSERT_ENGAGEMENT,
    SELECT_ENGAGEMENT,
    LIST_ENGAGEMENTS,
    LIST_AREAS,
    LIST_FORMS,
    INSERT_AREA,
    INSERT_FORM,
    LIST_DOMAINS,
    APPEND_EVENT,
    ERASE_CONTACTS,
    ADD_TOMBSTONE,
    IS_TOMBSTONED,
    EXPORT_CONTACTS,
    AUDIT_INSERT,
    AUDIT_LIST,
    BACKFILL_SELECT,
    BACKFILL_UPDATE,
    APPLY_TOMBSTONES,
    CONTACT_KEYS,
    STATEMENT_COUNT
};

/* Columns of a partner as the API shows it. $1 is the as-of date (NULL: now).
   The name in force on a date and membership on a date are the registry's
   rules, written once as SQL functions (migration 0010) that the reports
   use too. */
#define PARTNER_COLUMNS                                                                            \
    "p.id, p.slug, p.kind, p.website, to_char(p.joined_on, 'YYYY-MM-DD'), p.joined_precision, "    \
    "p.instrument, p.status, COALESCE(to_char(p.withdrawn_on, 'YYYY-MM-DD'), ''), p.note, "        \
    "p.version, "                                                                                  \
    "(SELECT COALESCE(string_agg(d.domain, ',' ORDER BY d.domain), '') "                           \
    "   FROM registry.partner_domain d WHERE d.partner_id = p.id), "                               \
    "(SELECT COALESCE(string_agg(a.area_slug, ',' ORDER BY a.area_slug), '') "                     \
    "   FROM registry.partner_area a WHERE a.partner_id = p.id), "                                 \
    "(SELECT json_agg(json_build_object('name', n.name, 'valid_from', "                            \
    "        COALESCE(to_char(n.valid_from, 'YYYY-MM-DD'), '')) ORDER BY n.position) "             \
    "   FROM registry.partner_name n WHERE n.partner_id = p.id), "                                 \
    "(SELECT n.name FROM registry.partner_name_on(p.id, $1::date) n), "                            \
    "CASE WHEN $1::date IS NULL THEN 0 "                                                           \
    "     WHEN NOT registry.partner_active_on(p.joined_on, p.withdrawn_on, $1::date) THEN 2 "      \
    "     WHEN $1::date >= (p.joined_on + CASE p.joined_precision WHEN 'day' THEN interval '0' "   \
    "          WHEN 'month' THEN interval '1 month' - interval '1 day' "                           \
    "          ELSE interval '1 year' - interval '1 day' END)::date THEN 1 "                       \
    "     ELSE 3 END, "                                                                            \
    "COALESCE(p.from_enquiry, 0) "

/* Column positions in PARTNER_COLUMNS. */
enum {
    COL_ID,
    COL_SLUG,
    COL_KIND,
    COL_WEBSITE,
    COL_JOINED_ON,
    COL_PRECISION,
    COL_INSTRUMENT,
    COL_STATUS,
    COL_WITHDRAWN_ON,
    COL_NOTE,
    COL_VERSION,
    COL_DOMAINS,
    COL_AREAS,
    COL_NAMES,
    COL_NAME_IN_FORCE,
    COL_MEMBERSHIP,
    COL_FROM_ENQUIRY
};

#define ENGAGEMENT_COLUMNS                                                                         \
    "e.id, e.partner_id, p.slug, e.form_slug, e.area_slug, e.title, "                              \
    "to_char(e.starts_on, 'YYYY-MM-DD'), COALESCE(to_char(e.ends_on, 'YYYY-MM-DD'), ''), e.note "  \
    "FROM registry.engagement e JOIN registry.partner p ON p.id = e.partner_id "

const dp_statement_t registry_statements[] = {
    [LOCK_PARTNER] =
        {"lock_partner",
         "SELECT id, version, status, to_char(joined_on, 'YYYY-MM-DD') "
         "FROM registry.partner WHERE id = $1::bigint OR ($1::bigint = 0 AND slug = $2) "
         "FOR UPDATE",
         2},
    [FIND_PARTNER] = {"find_partner",
                      "SELECT id FROM registry.partner "
                      "WHERE id = $1::bigint OR ($1::bigint = 0 AND slug = $2)",
                      2},
    /* The partner admitted from a membership application (migration 0012). */
    [FIND_ADMITTED] = {"find_admitted",
                       "SELECT id FROM registry.partner WHERE from_enquiry = $1::bigint", 1},
    [SELECT_PARTNER] = {"select_partner",
                        "SELECT " PARTNER_COLUMNS "FROM registry.partner p WHERE p.id = $2", 2},
    /* A read by id or slug in one round trip; the last column says whether
       the contacts need a second one. */
    [GET_PARTNER] = {"get_partner",
                     "SELECT " PARTNER_COLUMNS ", "
                     "EXISTS (SELECT 1 FROM registry.contact c WHERE c.partner_id = p.id) "
                     "FROM registry.partner p "
                     "WHERE p.id = $2::bigint OR ($2::bigint = 0 AND p.slug = $3)",
                     3},
    [LIST_PARTNERS] = {"list_partners",
                       "SELECT " PARTNER_COLUMNS "FROM registry.partner p "
                       "WHERE p.id > $2::bigint "
                       "AND ($3 = '' OR p.kind = $3) "
                       "AND ($4 = '' OR p.status = $4) "
                       "AND ($5 = '' OR EXISTS (SELECT 1 FROM registry.partner_area a "
                       "     WHERE a.partner_id = p.id AND a.area_slug = $5)) "
                       "AND ($6::date IS NULL OR p.joined_on >= $6::date) "
                       "AND ($7::date IS NULL OR p.joined_on <= $7::date) "
                       "AND ($8 = '' OR EXISTS (SELECT 1 FROM registry.partner_name n "
                       "     WHERE n.partner_id = p.id AND strpos(lower(n.name), lower($8)) > 0)) "
                       "AND ($1::date IS NULL "
                       "     OR registry.partner_active_on(p.joined_on, p.withdrawn_on, $1::date)) "
                       "ORDER BY p.id LIMIT $9::int",
                       9},
    [SELECT_CONTACTS] = {"select_contacts",
                         "SELECT id, name, role, email FROM registry.contact "
                         "WHERE partner_id = $1 ORDER BY id",
                         1},
    [INSERT_PARTNER] = {"insert_partner",
                        "INSERT INTO registry.partner (slug, kind, website, joined_on, "
                        "joined_precision, instrument, note, from_enquiry) "
                        "VALUES ($1, $2, $3, $4::date, $5, $6, $7, NULLIF($8::bigint, 0)) "
                        "ON CONFLICT (from_enquiry) DO NOTHING RETURNING id",
                        8},
    [UPDATE_PARTNER] = {"update_partner",
                        "UPDATE registry.partner SET kind = COALESCE($2, kind), "
                        "website = COALESCE($3, website), "
                        "joined_on = COALESCE($4::date, joined_on), "
                        "joined_precision = COALESCE($5, joined_precision), "
                        "instrument = COALESCE($6, instrument), note = COALESCE($7, note), "
                        "version = version + 1, updated_at = now() WHERE id = $1",
                        7},
    /* The first name starts when the partner joined. */
    [ALIGN_FIRST_NAME] = {"align_first_name",
                          "UPDATE registry.partner_name SET valid_from = p.joined_on "
                          "FROM registry.partner p WHERE p.id = $1 "
                          "AND partner_name.partner_id = p.id AND partner_name.position = 1",
                          1},
    [WITHDRAW_PARTNER] = {"withdraw_partner",
                          "UPDATE registry.partner SET status = 'withdrawn', "
                          "withdrawn_on = $2::date, "
                          "note = CASE WHEN $3 = '' THEN note WHEN note = '' THEN $3 "
                          "            ELSE note || E'\\n' || $3 END, "
                          "version = version + 1, updated_at = now() WHERE id = $1",
                          3},
    [TOUCH_PARTNER] = {"touch_partner",
                       "UPDATE registry.partner SET version = version + 1, updated_at = now() "
                       "WHERE id = $1",
                       1},
    [INSERT_NAME] = {"insert_name",
                     "INSERT INTO registry.partner_name (partner_id, position, name, valid_from) "
                     "SELECT $1, COALESCE(max(position), 0) + 1, $2, $3::date "
                     "FROM registry.partner_name WHERE partner_id = $1",
                     3},
    [CURRENT_NAME] = {"current_name",
                      "SELECT n.name, (SELECT COALESCE(to_char(max(valid_from), 'YYYY-MM-DD'), '') "
                      "  FROM registry.partner_name WHERE partner_id = $1) "
                      "FROM registry.partner_name n WHERE n.partner_id = $1 "
                      "ORDER BY n.position DESC LIMIT 1",
                      1},
    [DELETE_DOMAINS] = {"delete_domains",
                        "DELETE FROM registry.partner_domain WHERE partner_id = $1", 1},
    [INSERT_DOMAINS] = {"insert_domains",
                        "INSERT INTO registry.partner_domain (domain, partner_id) "
                        "SELECT unnest($2::text[]), $1",
                        2},
    [DELETE_AREAS] = {"delete_areas", "DELETE FROM registry.partner_area WHERE partner_id = $1", 1},
    [INSERT_AREAS] = {"insert_areas",
                      "INSERT INTO registry.partner_area (partner_id, area_slug) "
                      "SELECT $1, unnest($2::text[])",
                      2},
    [FIND_TAKEN_DOMAIN] = {"find_taken_domain",
                           "SELECT d.domain, p.slug FROM registry.partner_domain d "
                           "JOIN registry.partner p ON p.id = d.partner_id "
                           "WHERE d.domain = ANY ($2::text[]) AND d.partner_id <> $1 "
                           "ORDER BY d.domain LIMIT 1",
                           2},
    [FIND_UNKNOWN_AREA] = {"find_unknown_area",
                           "SELECT s FROM unnest($1::text[]) s "
                           "WHERE NOT EXISTS (SELECT 1 FROM registry.area a WHERE a.slug = s) "
                           "LIMIT 1",
                           1},
    [AREA_EXISTS] = {"area_exists", "SELECT 1 FROM registry.area WHERE slug = $1", 1},
    [FORM_EXISTS] = {"form_exists", "SELECT 1 FROM registry.form WHERE slug = $1", 1},
    /* A contact whose address was erased on request is stored erased. */
    [INSERT_CONTACT] = {"insert_contact",
                        "INSERT INTO registry.contact (partner_id, name, role, email, email_key) "
                        "SELECT $1, CASE WHEN z.email_key IS NULL THEN $2 ELSE '[erased]' END, "
                        "  CASE WHEN z.email_key IS NULL THEN $3 ELSE '' END, "
                        "  CASE WHEN z.email_key IS NULL THEN $4 "
                        "    ELSE 'erased-' || left($5, 16) || '@invalid' END, $5 "
                        "FROM (SELECT 1) one LEFT JOIN registry.erasure_tombstone z "
                        "  ON z.email_key = $5 RETURNING id",
                        5},
    [DELETE_CONTACT] = {"delete_contact",
                        "DELETE FROM registry.contact WHERE partner_id = $1 AND id = $2", 2},
    [INSERT_ENGAGEMENT] =
        {"insert_engagement",
         "INSERT INTO registry.engagement (partner_id, form_slug, area_slug, "
         "title, starts_on, ends_on, note) "
         "VALUES ($1, $2, $3, $4, $5::date, NULLIF($6, '')::date, $7) RETURNING id",
         7},
    [SELECT_ENGAGEMENT] = {"select_engagement", "SELECT " ENGAGEMENT_COLUMNS "WHERE e.id = $1", 1},
    [LIST_ENGAGEMENTS] =
        {"list_engagements",
         "SELECT " ENGAGEMENT_COLUMNS
         "WHERE e.id > $1::bigint AND ($2::bigint = 0 OR e.partner_id = $2::bigint) "
         "AND ($3 = '' OR e.form_slug = $3) AND ($4 = '' OR e.area_slug = $4) "
         "ORDER BY e.id LIMIT $5::int",
         5},
    [LIST_AREAS] = {"list_areas", "SELECT slug, label FROM registry.area ORDER BY created_at, slug",
                    0},
    [LIST_FORMS] = {"list_forms", "SELECT slug, label FROM registry.form ORDER BY created_at, slug",
                    0},
    [INSERT_AREA] = {"insert_area",
                     "INSERT INTO registry.area (slug, label) VALUES ($1, $2) "
                     "ON CONFLICT (slug) DO NOTHING",
                     2},
    [INSERT_FORM] = {"insert_form",
                     "INSERT INTO registry.form (slug, label) VALUES ($1, $2) "
                     "ON CONFLICT (slug) DO NOTHING",
                     2},
    [LIST_DOMAINS] = {"list_domains",
                      "SELECT d.domain, d.partner_id, p.slug FROM registry.partner_domain d "
                      "JOIN registry.partner p ON p.id = d.partner_id ORDER BY d.domain",
                      0},
    [ERASE_CONTACTS] = {"erase_contacts",
                        "UPDATE registry.contact SET name = '[erased]', role = '', "
                        "  email = 'erased-' || left(email_key, 16) || '@invalid' "
                        "WHERE email_key = $1 AND name <> '[erased]'",
                        1},
    [ADD_TOMBSTONE] = {"add_tombstone",
                       "INSERT INTO registry.erasure_tombstone (email_key) VALUES ($1) "
                       "ON CONFLICT (email_key) DO NOTHING",
                       1},
    [IS_TOMBSTONED] = {"is_tombstoned",
                       "SELECT 1 FROM registry.erasure_tombstone WHERE email_key = $1", 1},
    [EXPORT_CONTACTS] =
        {"export_contacts",
         "SELECT c.id, p.slug, c.name, c.role, c.email, "
         "  to_char(c.added_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
         "FROM registry.contact c JOIN registry.partner p ON p.id = c.partner_id "
         "WHERE c.email_key = $1 ORDER BY c.id",
         1},
    [AUDIT_INSERT] = {"audit_insert",
                      "INSERT INTO registry.audit_log (actor, action, subject_key, detail) "
                      "VALUES ($1, $2, $3, $4)",
                      4},
    [AUDIT_LIST] = {"audit_list",
                    "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                    "  actor, action, subject_key, detail FROM registry.audit_log "
                    "WHERE ($1 = '' OR subject_key = $1) ORDER BY id DESC LIMIT $2::int",
                    2},
    [BACKFILL_SELECT] = {"backfill_select",
                         "SELECT id, email FROM registry.contact WHERE email_key IS NULL "
                         "ORDER BY id LIMIT 500",
                         0},
    [BACKFILL_UPDATE] = {"backfill_update",
                         "UPDATE registry.contact c SET email_key = v.key "
                         "FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, key text) "
                         "WHERE c.id = v.id AND c.email_key IS NULL",
                         1},
    /* After a restore from a backup older than an erasure. */
    [APPLY_TOMBSTONES] = {"apply_tombstones",
                          "UPDATE registry.contact c SET name = '[erased]', role = '', "
                          "  email = 'erased-' || left(c.email_key, 16) || '@invalid' "
                          "FROM registry.erasure_tombstone z "
                          "WHERE z.email_key = c.email_key AND c.name <> '[erased]'",
                          0},
    [CONTACT_KEYS] = {"contact_keys",
                      "SELECT DISTINCT email_key FROM registry.contact "
                      "WHERE partner_id = $1 AND email_key IS NOT NULL",
                      1},
    [APPEND_EVENT] = {"append_event",
                      "INSERT INTO registry.outbox (event_type, aggregate_type, aggregate_id, "
                      "payload) VALUES ($1, $2, $3, $4)",
                      4},
};
const size_t registry_statement_count = STATEMENT_COUNT;

/* ---- enum text ---------------------------------------------------------- */

/* The text the database stores for each value of an API enum. */
typedef struct {
    int value;        /* the enum's value */
    const char *text; /* its text in the database */
} enum_text_t;

static const enum_text_t s_kinds[] = {{DP__PARTNER_KIND__PARTNER_KIND_COMPANY, "company"},
                                      {DP__PARTNER_KIND__PARTNER_KIND_ASSOCIATION, "association"},
                                      {0, NULL}};
static const enum_text_t s_precisions[] = {{DP__DATE_PRECISION__DATE_PRECISION_DAY, "day"},
                                           {DP__DATE_PRECISION__DATE_PRECISION_MONTH, "month"},
                                           {DP__DATE_PRECISION__DATE_PRECISION_YEAR, "year"},
                                           {0, NULL}};
static const enum_text_t s_statuses[] = {
    {DP__PARTNER_STATUS__PARTNER_STATUS_ACTIVE, "active"},
    {DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN, "withdrawn"},
    {0, NULL}};

/* The text of value, or NULL for a value without one (UNSPECIFIED, unknown). */
static const char *s_text_of(const enum_text_t *table, int value)
{
    for (; table->text; table++)
        if (table->value == value)
            return table->text;
    return NULL;
}

/* The value of text, or 0 (UNSPECIFIED) for a text without one. */
static int s_value_of(const enum_text_t *table, const char *text)
{
    for (; table->text; table++)
        if (strcmp(table->text, text) == 0)
            return table->value;
    return 0;
}

const char *registry_kind_text(Dp__PartnerKind kind)
{
    return s_text_of(s_kinds, kind);
}

const char *registry_precision_text(Dp__DatePrecision precision)
{
    return s_text_of(s_precisions, precision);
}

const char *registry_status_text(Dp__PartnerStatus status)
{
    return s_text_of(s_statuses, status);
}

/* ---- small helpers ------------------------------------------------------- */

/* An SQL array literal of validated values (slugs, domains: no quoting needed). */
static char *s_array_literal(dp_arena_t *arena, char **values, size_t count)
{
    size_t length = 3;
    for (size_t i = 0; i < count; i++)
        length += strlen(values[i]) + 1;
    char *literal = dp_arena_alloc(arena, length);
    if (!literal)
        return NULL;
    strcpy(literal, "{");
    for (size_t i = 0; i < count; i++) {
        if (i)
            strcat(literal, ",");
        strcat(literal, values[i]);
    }
    strcat(literal, "}");
    return literal;
}

/* Fills names, valid_to and former_names from the json_agg column. */
static void s_fill_names(dp_arena_t *arena, Dp__Partner *partner, const char *json_text)
{
    json_t *names = json_loads(json_text, 0, NULL);
    if (!json_is_array(names)) {
        json_decref(names);
        return;
    }
    size_t count = json_array_size(names);
    partner->names = (Dp__PartnerName **)dp_arena_array(arena, count);
    if (!partner->names) {
        json_decref(names);
        return;
    }
    size_t former_length = 1;
    for (size_t i = 0; i < count; i++) {
        Dp__PartnerName *name = dp_arena_alloc(arena, sizeof *name);
        if (!name)
            break;
        dp__partner_name__init(name);
        json_t *item = json_array_get(names, i);
        name->name = dp_arena_strdup(arena, json_string_value(json_object_get(item, "name")));
        name->valid_from =
            dp_arena_strdup(arena, json_string_value(json_object_get(item, "valid_from")));
        name->valid_to = "";
        if (i + 1 < count)
            name->valid_to = dp_arena_strdup(
                arena,
                json_string_value(json_object_get(json_array_get(names, i + 1), "valid_from")));
        partner->names[partner->n_names++] = name;
        if (i + 1 < count)
            former_length += strlen(name->name) + 2;
    }
    char *former = dp_arena_alloc(arena, former_length);
    if (former) {
        for (size_t i = 0; i + 1 < partner->n_names; i++) {
            if (i)
                strcat(former, "; ");
            strcat(former, partner->names[i]->name);
        }
        partner->former_names = former;
    }
    json_decref(names);
}

static void *s_partner_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__Partner *partner = dp_arena_alloc(arena, sizeof *partner);
    if (!partner)
        return NULL;
    dp__partner__init(partner);
    partner->id = dp_db_int64(result, row, COL_ID);
    partner->slug = dp_db_text(arena, result, row, COL_SLUG);
    partner->kind = (Dp__PartnerKind)s_value_of(s_kinds, PQgetvalue(result, row, COL_KIND));
    partner->website = dp_db_text(arena, result, row, COL_WEBSITE);
    partner->joined_on = dp_db_text(arena, result, row, COL_JOINED_ON);
    partner->joined_precision =
        (Dp__DatePrecision)s_value_of(s_precisions, PQgetvalue(result, row, COL_PRECISION));
    partner->instrument = dp_db_text(arena, result, row, COL_INSTRUMENT);
    partner->status = strcmp(PQgetvalue(result, row, COL_STATUS), "withdrawn") == 0
                          ? DP__PARTNER_STATUS__PARTNER_STATUS_WITHDRAWN
                          : DP__PARTNER_STATUS__PARTNER_STATUS_ACTIVE;
    partner->withdrawn_on = dp_db_text(arena, result, row, COL_WITHDRAWN_ON);
    partner->note = dp_db_text(arena, result, row, COL_NOTE);
    partner->version = dp_db_int64(result, row, COL_VERSION);
    partner->domains =
        dp_db_split_list(arena, PQgetvalue(result, row, COL_DOMAINS), &partner->n_domains);
    partner->areas = dp_db_split_list(arena, PQgetvalue(result, row, COL_AREAS), &partner->n_areas);
    partner->former_names = "";
    s_fill_names(arena, partner, PQgetvalue(result, row, COL_NAMES));
    partner->name = dp_db_text(arena, result, row, COL_NAME_IN_FORCE);
    partner->membership = (Dp__Membership)atoi(PQgetvalue(result, row, COL_MEMBERSHIP));
    partner->from_enquiry = dp_db_int64(result, row, COL_FROM_ENQUIRY);
    return partner;
}

/* ---- partners ------------------------------------------------------------ */

static void s_ref_params(const Dp__PartnerRef *ref, char id[24], const char **params)
{
    dp_format_int64(id, ref ? ref->id : 0);
    params[0] = id;
    params[1] = ref && ref->slug ? ref->slug : "";
}

int registry_db_lock_partner(dp_db_t *db, const Dp__PartnerRef *ref, registry_partner_key_t *key)
{
    char id[24];
    const char *params[2];
    s_ref_params(ref, id, params);
    PGresult *result = dp_db_run(db, LOCK_PARTNER, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    if (found) {
        key->id = dp_db_int64(result, 0, 0);
        key->version = dp_db_int64(result, 0, 1);
        snprintf(key->status, sizeof key->status, "%s", PQgetvalue(result, 0, 2));
        snprintf(key->joined_on, sizeof key->joined_on, "%s", PQgetvalue(result, 0, 3));
    }
    PQclear(result);
    return found;
}

/* The id in the first column of a statement's one row: 1, 0 for no row, -1. */
static int s_run_id(dp_db_t *db, int statement, const char *const *params, int64_t *id_out)
{
    PGresult *result = dp_db_run(db, statement, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    if (found)
        *id_out = dp_db_int64(result, 0, 0);
    PQclear(result);
    return found;
}

int registry_db_find_partner(dp_db_t *db, const Dp__PartnerRef *ref, int64_t *id_out)
{
    char id[24];
    const char *params[2];
    s_ref_params(ref, id, params);
    return s_run_id(db, FIND_PARTNER, params, id_out);
}

int registry_db_find_admitted(dp_db_t *db, int64_t enquiry_id, int64_t *id_out)
{
    char enquiry[24];
    dp_format_int64(enquiry, enquiry_id);
    const char *params[] = {enquiry};
    return s_run_id(db, FIND_ADMITTED, params, id_out);
}

static void *s_contact_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"id", "name", "role", "email", NULL};
    return dp_db_message(arena, &dp__contact__descriptor, fields, result, row);
}

static int s_load_contacts(dp_db_t *db, dp_arena_t *arena, Dp__Partner *partner)
{
    char id[24];
    dp_format_int64(id, partner->id);
    const char *params[] = {id};
    return dp_db_run_rows(db, SELECT_CONTACTS, params, arena, s_contact_from_row,
                          (void ***)&partner->contacts, &partner->n_contacts);
}

int registry_db_load_partner(dp_db_t *db, dp_arena_t *arena, int64_t id, Dp__Partner **partner)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {NULL, id_text};
    PGresult *result = dp_db_run(db, SELECT_PARTNER, params);
    return result ? dp_db_one(result, arena, s_partner_from_row, (void **)partner) : -1;
}

int registry_db_get_partner(dp_db_t *db, dp_arena_t *arena, const Dp__PartnerRef *ref,
                            const char *as_of, bool with_contacts, Dp__Partner **partner)
{
    char id[24];
    const char *ref_params[2];
    s_ref_params(ref, id, ref_params);
    const char *params[] = {as_of && *as_of ? as_of : NULL, ref_params[0], ref_params[1]};
    PGresult *result = dp_db_run(db, GET_PARTNER, params);
    if (!result)
        return -1;
    bool has_contacts = with_contacts && PQntuples(result) == 1 &&
                        strcmp(PQgetvalue(result, 0, COL_FROM_ENQUIRY + 1), "t") == 0;
    int found = dp_db_one(result, arena, s_partner_from_row, (void **)partner);
    if (found == 1 && has_contacts && s_load_contacts(db, arena, *partner) < 0)
        return -1;
    return found;
}

int registry_db_list_partners(dp_db_t *db, dp_arena_t *arena, const Dp__ListPartnersRequest *filter,
                              int64_t after_id, int limit, Dp__Partner ***partners, size_t *count)
{
    char after[24], limit_text[24];
    dp_format_int64(after, after_id);
    dp_format_int64(limit_text, limit);
    const char *kind = registry_kind_text(filter->kind);
    const char *status = registry_status_text(filter->status);
    const char *params[] = {*filter->as_of ? filter->as_of : NULL,
                            after,
                            kind ? kind : "",
                            status ? status : "",
                            filter->area,
                            *filter->joined_from ? filter->joined_from : NULL,
                            *filter->joined_to ? filter->joined_to : NULL,
                            filter->name_search,
                            limit_text};
    return dp_db_run_rows(db, LIST_PARTNERS, params, arena, s_partner_from_row, (void ***)partners,
                          count);
}

int registry_db_insert_partner(dp_db_t *db, const char *slug,
                               const registry_partner_fields_t *fields, int64_t *id)
{
    char from_enquiry[24];
    dp_format_int64(from_enquiry, fields->from_enquiry);
    const char *params[] = {slug,
                            fields->kind,
                            fields->website,
                            fields->joined_on,
                            fields->precision,
                            fields->instrument,
                            fields->note,
                            from_enquiry};
    return s_run_id(db, INSERT_PARTNER, params, id);
}

int registry_db_update_partner(dp_db_t *db, int64_t id, const registry_partner_fields_t *fields)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text,           fields->kind,      fields->website,
                            fields->joined_on, fields->precision, fields->instrument,
                            fields->note};
    if (dp_db_run_count(db, UPDATE_PARTNER, params) < 0)
        return -1;
    const char *align_params[] = {id_text};
    if (fields->joined_on && dp_db_run_count(db, ALIGN_FIRST_NAME, align_params) < 0)
        return -1;
    return 1;
}

int registry_db_withdraw_partner(dp_db_t *db, int64_t id, const char *withdrawn_on,
                                 const char *note)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text, withdrawn_on, note ? note : ""};
    return dp_db_run_count(db, WITHDRAW_PARTNER, params) < 0 ? -1 : 1;
}

int registry_db_touch_partner(dp_db_t *db, int64_t id)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    return dp_db_run_count(db, TOUCH_PARTNER, params) < 0 ? -1 : 1;
}

int registry_db_add_name(dp_db_t *db, int64_t id, const char *name, const char *valid_from)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text, name, valid_from && *valid_from ? valid_from : NULL};
    return dp_db_run_count(db, INSERT_NAME, params) < 0 ? -1 : 1;
}

int registry_db_current_name(dp_db_t *db, dp_arena_t *arena, int64_t id, char **name,
                             char **latest_valid_from)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    char **const texts[] = {name, latest_valid_from};
    *name = *latest_valid_from = "";
    return dp_db_run_texts(db, CURRENT_NAME, params, arena, texts, 2);
}

static int s_replace_list(dp_db_t *db, int delete_statement, int insert_statement, int64_t id,
                          char **values, size_t count)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *delete_params[] = {id_text};
    if (dp_db_run_count(db, delete_statement, delete_params) < 0)
        return -1;
    if (count == 0)
        return 1;
    dp_arena_t *arena = dp_arena_new();
    char *literal = arena ? s_array_literal(arena, values, count) : NULL;
    const char *insert_params[] = {id_text, literal};
    int outcome = literal ? dp_db_run_count(db, insert_statement, insert_params) : -1;
    dp_arena_destroy(&arena);
    return outcome < 0 ? -1 : 1;
}

int registry_db_replace_domains(dp_db_t *db, int64_t id, char **domains, size_t count)
{
    return s_replace_list(db, DELETE_DOMAINS, INSERT_DOMAINS, id, domains, count);
}

int registry_db_replace_areas(dp_db_t *db, int64_t id, char **areas, size_t count)
{
    return s_replace_list(db, DELETE_AREAS, INSERT_AREAS, id, areas, count);
}

int registry_db_find_taken_domain(dp_db_t *db, dp_arena_t *arena, int64_t id, char **domains,
                                  size_t count, char **domain, char **owner_slug)
{
    if (count == 0)
        return 0;
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text, s_array_literal(arena, domains, count)};
    char **const texts[] = {domain, owner_slug};
    return dp_db_run_texts(db, FIND_TAKEN_DOMAIN, params, arena, texts, 2);
}

int registry_db_find_unknown_area(dp_db_t *db, dp_arena_t *arena, char **areas, size_t count,
                                  char **unknown)
{
    if (count == 0)
        return 0;
    const char *params[] = {s_array_literal(arena, areas, count)};
    char **const texts[] = {unknown};
    return dp_db_run_texts(db, FIND_UNKNOWN_AREA, params, arena, texts, 1);
}

int registry_db_area_exists(dp_db_t *db, const char *slug)
{
    const char *params[] = {slug};
    return dp_db_run_count(db, AREA_EXISTS, params);
}

int registry_db_form_exists(dp_db_t *db, const char *slug)
{
    const char *params[] = {slug};
    return dp_db_run_count(db, FORM_EXISTS, params);
}

/* ---- contacts and engagements --------------------------------------------- */

int registry_db_insert_contact(dp_db_t *db, int64_t partner_id, const char *name, const char *role,
                               const char *email, const char *email_key, int64_t *contact_id)
{
    char id_text[24];
    dp_format_int64(id_text, partner_id);
    const char *params[] = {id_text, name, role, email, email_key};
    PGresult *result = dp_db_run(db, INSERT_CONTACT, params);
    if (!result)
        return -1;
    *contact_id = dp_db_int64(result, 0, 0);
    PQclear(result);
    return 1;
}

int registry_db_delete_contact(dp_db_t *db, int64_t partner_id, int64_t contact_id)
{
    char partner_text[24], contact_text[24];
    dp_format_int64(partner_text, partner_id);
    dp_format_int64(contact_text, contact_id);
    const char *params[] = {partner_text, contact_text};
    return dp_db_run_count(db, DELETE_CONTACT, params);
}

int registry_db_insert_engagement(dp_db_t *db, int64_t partner_id,
                                  const Dp__RecordEngagementRequest *request, int64_t *id)
{
    char id_text[24];
    dp_format_int64(id_text, partner_id);
    const char *params[] = {id_text,        request->form,      request->area,
                            request->title, request->starts_on, request->ends_on,
                            request->note};
    PGresult *result = dp_db_run(db, INSERT_ENGAGEMENT, params);
    if (!result)
        return -1;
    *id = dp_db_int64(result, 0, 0);
    PQclear(result);
    return 1;
}

static void *s_engagement_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"id",    "partner_id", "partner_slug", "form", "area",
                                         "title", "starts_on",  "ends_on",      "note", NULL};
    return dp_db_message(arena, &dp__engagement__descriptor, fields, result, row);
}

int registry_db_load_engagement(dp_db_t *db, dp_arena_t *arena, int64_t id,
                                Dp__Engagement **engagement)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    return dp_db_run_one(db, SELECT_ENGAGEMENT, params, arena, s_engagement_from_row,
                         (void **)engagement);
}

int registry_db_list_engagements(dp_db_t *db, dp_arena_t *arena, int64_t partner_id,
                                 const char *form, const char *area, int64_t after_id, int limit,
                                 Dp__Engagement ***engagements, size_t *count)
{
    char after[24], partner[24], limit_text[24];
    dp_format_int64(after, after_id);
    dp_format_int64(partner, partner_id);
    dp_format_int64(limit_text, limit);
    const char *params[] = {after, partner, form, area, limit_text};
    return dp_db_run_rows(db, LIST_ENGAGEMENTS, params, arena, s_engagement_from_row,
                          (void ***)engagements, count);
}

/* ---- reference lists ------------------------------------------------------ */

/* Areas and forms have the same shape: slug and label. */
static const char *const s_slug_label[] = {"slug", "label", NULL};

static void *s_area_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    return dp_db_message(arena, &dp__area__descriptor, s_slug_label, result, row);
}

static void *s_form_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    return dp_db_message(arena, &dp__form__descriptor, s_slug_label, result, row);
}

int registry_db_list_areas(dp_db_t *db, dp_arena_t *arena, void ***areas, size_t *count)
{
    return dp_db_run_rows(db, LIST_AREAS, NULL, arena, s_area_from_row, areas, count);
}

int registry_db_list_forms(dp_db_t *db, dp_arena_t *arena, void ***forms, size_t *count)
{
    return dp_db_run_rows(db, LIST_FORMS, NULL, arena, s_form_from_row, forms, count);
}

int registry_db_insert_area(dp_db_t *db, const char *slug, const char *label)
{
    const char *params[] = {slug, label};
    return dp_db_run_count(db, INSERT_AREA, params);
}

int registry_db_insert_form(dp_db_t *db, const char *slug, const char *label)
{
    const char *params[] = {slug, label};
    return dp_db_run_count(db, INSERT_FORM, params);
}

static void *s_domain_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"domain", "partner_id", "partner_slug", NULL};
    return dp_db_message(arena, &dp__partner_domain__descriptor, fields, result, row);
}

int registry_db_list_domains(dp_db_t *db, dp_arena_t *arena, void ***domains, size_t *count)
{
    return dp_db_run_rows(db, LIST_DOMAINS, NULL, arena, s_domain_from_row, domains, count);
}

/* ---- outbox --------------------------------------------------------------- */

int registry_db_append_event(dp_db_t *db, const char *event_type, const char *aggregate_type,
                             const char *aggregate_id, const ProtobufCMessage *payload)
{
    return dp_db_append_event(db, APPEND_EVENT, event_type, aggregate_type, aggregate_id, payload)
               ? -1
               : 1;
}

/* ---- data protection ------------------------------------------------------------------- */

int registry_db_erase_contacts(dp_db_t *db, const char *subject_key)
{
    const char *params[] = {subject_key};
    int tombstone = dp_db_run_count(db, ADD_TOMBSTONE, params);
    return tombstone < 0 ? -1 : dp_db_run_count(db, ERASE_CONTACTS, params);
}

int registry_db_is_tombstoned(dp_db_t *db, const char *subject_key)
{
    const char *params[] = {subject_key};
    return dp_db_run_count(db, IS_TOMBSTONED, params);
}

static void *s_personal_contact_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"id",    "partner_slug", "name", "role",
                                         "email", "added_at",     NULL};
    return dp_db_message(arena, &dp__personal_contact__descriptor, fields, result, row);
}

int registry_db_export_contacts(dp_db_t *db, dp_arena_t *arena, const char *subject_key,
                                void ***contacts, size_t *count)
{
    const char *params[] = {subject_key};
    return dp_db_run_rows(db, EXPORT_CONTACTS, params, arena, s_personal_contact_from_row, contacts,
                          count);
}

int registry_db_audit(dp_db_t *db, const char *actor, const char *action, const char *subject_key,
                      const char *detail)
{
    return dp_privacy_audit_add(db, AUDIT_INSERT, actor, action, subject_key, detail);
}

int registry_db_list_audit(dp_db_t *db, dp_arena_t *arena, const char *subject_key, int limit,
                           void ***entries, size_t *count)
{
    return dp_privacy_audit_rows(db, AUDIT_LIST, "registry", arena, subject_key, limit, entries,
                                 count);
}

int registry_db_backfill(dp_db_t *db, const char *secret)
{
    return dp_privacy_backfill(db, BACKFILL_SELECT, BACKFILL_UPDATE, secret);
}

int registry_db_apply_tombstones(dp_db_t *db)
{
    return dp_db_run_count(db, APPLY_TOMBSTONES, NULL);
}

int registry_db_contact_keys(dp_db_t *db, dp_arena_t *arena, int64_t partner_id, char ***keys,
                             size_t *count)
{
    char id_text[24];
    dp_format_int64(id_text, partner_id);
    const char *params[] = {id_text};
    PGresult *result = dp_db_run(db, CONTACT_KEYS, params);
    if (!result)
        return -1;
    *count = 0;
    *keys = (char **)dp_arena_array(arena, (size_t)PQntuples(result));
    for (int row = 0; *keys && row < PQntuples(result); row++)
        (*keys)[(*count)++] = dp_db_text(arena, result, row, 0);
    PQclear(result);
    return *keys ? 1 : -1;
}
