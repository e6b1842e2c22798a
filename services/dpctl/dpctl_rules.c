/* dpctl enquiry rules: the triage rules by which the intake suggests an
   area when a keyword appears in an enquiry's subject or body. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "dpctl_enquiry.h"
#include "dpctl_output.h"

static const dpctl_spec_t s_list_spec = {
    "enquiry rules list", "", "List the triage rules (keyword -> suggested area).", 0, 0, NULL};

static const dpctl_spec_t s_add_spec = {
    "enquiry rules add",
    "KEYWORD AREA",
    "Add a triage rule: enquiries whose subject or body holds KEYWORD (lower case, matched in "
    "any case) are suggested the area AREA. Applies to enquiries submitted from now on.",
    2,
    2,
    NULL};

static const dpctl_spec_t s_remove_spec = {
    "enquiry rules remove", "ID", "Remove a triage rule, named by its id.", 1, 1, NULL};

static int s_add_row(dpctl_listing_t *listing, const ProtobufCMessage *item)
{
    const Dp__TriageRule *rule = (const Dp__TriageRule *)item;
    char id[32];
    snprintf(id, sizeof id, "%" PRId64, rule->id);
    const char *cells[] = {id, rule->keyword, rule->area};
    return dpctl_listing_add(listing, &rule->base, cells);
}

static int s_list(dpctl_t *self, dpctl_args_t *args)
{
    static const char *const headers[] = {"ID", "KEYWORD", "AREA"};
    static const dpctl_list_view_t view = {headers, 3, s_add_row, false, NULL};
    Dp__ListTriageRulesRequest request = DP__LIST_TRIAGE_RULES_REQUEST__INIT;
    return dpctl_call_list(self, DPCTL_INTAKE, &request.base,
                           &dp__list_triage_rules_reply__descriptor, &view);
}

static int s_list_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_list_spec, argc, argv, s_list);
}

static int s_print_added(dpctl_t *self, const Dp__TriageRule *rule)
{
    if (!rule) {
        fprintf(stderr, "dpctl: the intake's reply holds no rule\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&rule->base);
    printf("added rule #%" PRId64 ": '%s' -> %s\n", rule->id, rule->keyword, rule->area);
    return DPCTL_EXIT_OK;
}

static int s_add(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__TriageRule rule = DP__TRIAGE_RULE__INIT;
    rule.keyword = (char *)dpctl_args_operand(args, 0);
    rule.area = (char *)dpctl_args_operand(args, 1);
    Dp__AddTriageRuleRequest request = DP__ADD_TRIAGE_RULE_REQUEST__INIT;
    request.rule = &rule;
    Dp__AddTriageRuleReply *reply = NULL;
    outcome = dpctl_call(self, DPCTL_INTAKE, &request.base, &dp__add_triage_rule_reply__descriptor,
                         (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_added(self, reply->rule);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_add_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_add_spec, argc, argv, s_add);
}

static int s_print_removed(dpctl_t *self, int64_t id)
{
    if (!self->json) {
        printf("removed rule #%" PRId64 "\n", id);
        return DPCTL_EXIT_OK;
    }
    json_t *document = json_pack("{s:I, s:b}", "id", (json_int_t)id, "removed", 1);
    return dpctl_json_print(&document);
}

static int s_remove(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    const char *id = dpctl_args_operand(args, 0);
    Dp__RemoveTriageRuleRequest request = DP__REMOVE_TRIAGE_RULE_REQUEST__INIT;
    if (!dpctl_is_number(id))
        outcome = dpctl_args_error(args, "ID must be a rule's number, not '%s'", id);
    request.id = strtoll(id, NULL, 10);
    ProtobufCMessage *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_INTAKE, &request.base,
                             &dp__remove_triage_rule_reply__descriptor, &reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_removed(self, request.id);
    dp_message_free(&reply);
    return outcome;
}

static int s_remove_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_remove_spec, argc, argv, s_remove);
}

static const dpctl_command_t s_commands[] = {
    {"list", "list the rules", s_list_run},
    {"add", "add a rule: KEYWORD AREA", s_add_run},
    {"remove", "remove a rule: ID", s_remove_run},
};

static const dpctl_group_t s_group = {
    "enquiry rules",
    "Triage rules: a keyword in an enquiry's subject or body suggests an area of cooperation.",
    s_commands, sizeof s_commands / sizeof s_commands[0], "list"};

int dpctl_enquiry_rules_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}
