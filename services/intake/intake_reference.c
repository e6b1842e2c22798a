/* Triage rules and enquiry kinds: data that staff extend with dpctl. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "dp_format.h"
#include "dp_handler.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "intake_db.h"
#include "intake_service.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

enum { MAX_KEYWORD_BYTES = 100, MAX_LABEL_BYTES = 300 };

/* The lists as dp_list_read_fn reads them, for dp_reply_list. */
static int s_read_rules(dp_db_t *db, dp_arena_t *arena, void ***rules, size_t *count)
{
    return intake_db_list_rules(db, arena, (Dp__TriageRule ***)rules, count);
}

static int s_read_kinds(dp_db_t *db, dp_arena_t *arena, void ***kinds, size_t *count)
{
    return intake_db_list_kinds(db, arena, (Dp__EnquiryKind ***)kinds, count);
}

void intake_list_rules(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((intake_t *)state)->db, &dp__list_triage_rules_reply__descriptor,
                  s_read_rules);
}

void intake_list_kinds(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((intake_t *)state)->db, &dp__list_enquiry_kinds_reply__descriptor,
                  s_read_kinds);
}

/* A change to the reference data and the event that says so. */
typedef struct {
    intake_t *intake;  /* the service */
    dp_reply_t *reply; /* where a refusal goes */
    const char *list;  /* "rule" or "kind" */
    const char *key;   /* kind slug, or keyword for a new rule */
    const char *value; /* label, or area slug */
    int64_t rule_id;   /* rule to remove, or the new rule's id */
} change_t;

static dp_txn_outcome_t s_event(dp_db_t *db, change_t *change, const char *type)
{
    char key[DP_INT64_TEXT];
    dp_format_int64(key, change->rule_id);
    Dp__IntakeReferenceEvent event = DP__INTAKE_REFERENCE_EVENT__INIT;
    event.list = (char *)change->list;
    event.key = strcmp(change->list, "rule") == 0 ? key : (char *)change->key;
    event.value = (char *)(change->value ? change->value : "");
    /* Reference changes are not about one enquiry: aggregate id 0. */
    return intake_db_append_event(db, type, 0, &event.base) < 0 ? DP_TXN_FAILED : DP_TXN_COMMIT;
}

static dp_txn_outcome_t s_add_rule_body(dp_db_t *db, void *arg)
{
    change_t *change = arg;
    int added = intake_db_add_rule(db, change->key, change->value, &change->rule_id);
    if (added < 0)
        return DP_TXN_FAILED;
    if (!added) {
        dp_reply_error(change->reply, DP__CODE__CODE_ALREADY_EXISTS, "keyword",
                       "the rule '%s' -> %s exists", change->key, change->value);
        return DP_TXN_ROLLBACK;
    }
    return s_event(db, change, "enquiry.rule_added");
}

static dp_txn_outcome_t s_remove_rule_body(dp_db_t *db, void *arg)
{
    change_t *change = arg;
    int removed = intake_db_remove_rule(db, change->rule_id);
    if (removed < 0)
        return DP_TXN_FAILED;
    if (!removed) {
        dp_reply_error(change->reply, DP__CODE__CODE_NOT_FOUND, "id", "no rule %" PRId64,
                       change->rule_id);
        return DP_TXN_ROLLBACK;
    }
    return s_event(db, change, "enquiry.rule_removed");
}

static dp_txn_outcome_t s_add_kind_body(dp_db_t *db, void *arg)
{
    change_t *change = arg;
    int added = intake_db_add_kind(db, change->key, change->value);
    if (added < 0)
        return DP_TXN_FAILED;
    if (!added) {
        dp_reply_error(change->reply, DP__CODE__CODE_ALREADY_EXISTS, "slug",
                       "kind '%s' already exists", change->key);
        return DP_TXN_ROLLBACK;
    }
    return s_event(db, change, "enquiry.kind_added");
}

static bool s_run(change_t *change, dp_txn_body_fn *body)
{
    int outcome = dp_db_transaction(change->intake->db, body, change);
    if (outcome < 0)
        dp_reply_db_failure(change->reply, change->intake->db);
    return outcome == 0;
}

void intake_add_rule(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    intake_t *intake = state;
    const Dp__TriageRule *rule = ((const Dp__AddTriageRuleRequest *)message)->rule;
    if (!rule) {
        dp_reply_error(reply, INVALID, "rule", "rule is required");
        return;
    }
    bool lower = true;
    for (const char *p = rule->keyword; *p; p++)
        lower = lower && !isupper((unsigned char)*p);
    if (!dp_valid_required_text(rule->keyword, MAX_KEYWORD_BYTES) || strlen(rule->keyword) < 2 ||
        !lower) {
        dp_reply_error(reply, INVALID, "keyword",
                       "keyword must be lower-case text of 2 to %d bytes", MAX_KEYWORD_BYTES);
        return;
    }
    if (!dp_valid_slug(rule->area) || !intake_triage_area_known(intake->triage, rule->area)) {
        dp_reply_error(reply, INVALID, "area", "area must be the slug of a known area");
        return;
    }
    change_t change = {intake, reply, "rule", rule->keyword, rule->area, 0};
    if (!s_run(&change, s_add_rule_body))
        return;
    Dp__TriageRule stored = *rule;
    stored.id = change.rule_id;
    Dp__AddTriageRuleReply answer = DP__ADD_TRIAGE_RULE_REPLY__INIT;
    answer.rule = &stored;
    dp_reply_ok(reply, &answer.base);
}

void intake_remove_rule(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RemoveTriageRuleRequest *request = (const Dp__RemoveTriageRuleRequest *)message;
    if (!dp_check_id(reply, "id", request->id, "a rule id"))
        return;
    change_t change = {state, reply, "rule", NULL, NULL, request->id};
    Dp__RemoveTriageRuleReply answer = DP__REMOVE_TRIAGE_RULE_REPLY__INIT;
    if (s_run(&change, s_remove_rule_body))
        dp_reply_ok(reply, &answer.base);
}

void intake_add_kind(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__EnquiryKind *kind = ((const Dp__AddEnquiryKindRequest *)message)->kind;
    if (!kind) {
        dp_reply_error(reply, INVALID, "kind", "kind is required");
        return;
    }
    if (!dp_check_slug(reply, "slug", kind->slug) ||
        !dp_check_text(reply, "label", kind->label, MAX_LABEL_BYTES, true))
        return;
    change_t change = {state, reply, "kind", kind->slug, kind->label, 0};
    if (!s_run(&change, s_add_kind_body))
        return;
    Dp__AddEnquiryKindReply answer = DP__ADD_ENQUIRY_KIND_REPLY__INIT;
    answer.kind = (Dp__EnquiryKind *)kind;
    dp_reply_ok(reply, &answer.base);
}
