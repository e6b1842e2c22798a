/* dpctl partner contact add | remove: a partner's contact persons. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl_output.h"
#include "dpctl_partner.h"

static int s_add_run(dpctl_t *self, int argc, char **argv);
static int s_remove_run(dpctl_t *self, int argc, char **argv);

static const dpctl_command_t s_commands[] = {
    {"add", "add a contact person to a partner", s_add_run},
    {"remove", "remove a contact person from a partner", s_remove_run},
};

static const dpctl_group_t s_group = {"partner contact", "A partner's contact persons.", s_commands,
                                      sizeof s_commands / sizeof s_commands[0]};

int dpctl_partner_contact_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}

static const dpctl_option_t s_add_options[] = {
    {"name", DPCTL_TEXT, "NAME", "the person's name", .required = true},
    {"email", DPCTL_TEXT, "EMAIL", "the person's e-mail address", .required = true},
    {"role", DPCTL_TEXT, "ROLE", "the person's role, e.g. \"public policy\""},
    {NULL}};

static const dpctl_spec_t s_add_spec = {
    "partner contact add", "ID|SLUG", "Add a contact person to a partner.", 1, 1, s_add_options};

static int s_print_contact(dpctl_t *self, const Dp__Contact *contact, const char *partner)
{
    if (!contact) {
        fprintf(stderr, "dpctl: the registry's reply holds no contact\n");
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(&contact->base);
    printf("added contact #%" PRId64 " to %s: %s <%s>%s%s%s\n", contact->id, partner, contact->name,
           contact->email, *contact->role ? " (" : "", contact->role, *contact->role ? ")" : "");
    return DPCTL_EXIT_OK;
}

static int s_add(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__AddContactRequest request = DP__ADD_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    request.name = (char *)dpctl_args_text(args, "name", "");
    request.email = (char *)dpctl_args_text(args, "email", "");
    request.role = (char *)dpctl_args_text(args, "role", "");
    Dp__AddContactReply *reply = NULL;
    outcome = dpctl_partner_ref(args, 0, &ref);
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_REGISTRY, &request.base,
                             &dp__add_contact_reply__descriptor, (ProtobufCMessage **)&reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_contact(self, reply->contact, dpctl_args_operand(args, 0));
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

static int s_add_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_add_spec, argc, argv, s_add);
}

static const dpctl_spec_t s_remove_spec = {"partner contact remove",
                                           "ID|SLUG CONTACT_ID",
                                           "Remove a contact person from a partner.",
                                           2,
                                           2,
                                           NULL};

static int s_print_removed(dpctl_t *self, const char *partner, int64_t contact_id)
{
    if (!self->json) {
        printf("removed contact #%" PRId64 " from %s\n", contact_id, partner);
        return DPCTL_EXIT_OK;
    }
    json_t *document = json_pack("{s:s, s:I, s:b}", "partner", partner, "contact_id",
                                 (json_int_t)contact_id, "removed", 1);
    return dpctl_json_print(&document);
}

static int s_remove(dpctl_t *self, dpctl_args_t *args)
{
    int outcome = DPCTL_EXIT_OK;
    Dp__PartnerRef ref = DP__PARTNER_REF__INIT;
    Dp__RemoveContactRequest request = DP__REMOVE_CONTACT_REQUEST__INIT;
    request.partner = &ref;
    const char *contact = dpctl_args_operand(args, 1);
    outcome = dpctl_partner_ref(args, 0, &ref);
    if (outcome == DPCTL_EXIT_OK && !dpctl_is_number(contact))
        outcome = dpctl_args_error(args, "CONTACT_ID must be a number, not '%s'", contact);
    request.contact_id = strtoll(contact, NULL, 10);
    ProtobufCMessage *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_REGISTRY, &request.base,
                             &dp__remove_contact_reply__descriptor, &reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_removed(self, dpctl_args_operand(args, 0), request.contact_id);
    dp_message_free(&reply);
    return outcome;
}

static int s_remove_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_args_run(self, &s_remove_spec, argc, argv, s_remove);
}
