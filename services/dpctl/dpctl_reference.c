/* dpctl area | form | enquiry kinds: the organisation's lists of areas and
   forms of cooperation (the registry's) and of enquiry kinds (the
   intake's). All are lists of (slug, label) with the same requests, so one
   body of code serves them through the message descriptors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_enquiry.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"
#include "intake.pb-c.h"
#include "registry.pb-c.h"

typedef struct {
    const char *noun;                               /* "area": also the add messages' field */
    dpctl_service_t service;                        /* the service that keeps the list */
    const dpctl_spec_t *list_spec;                  /* "dpctl area list" */
    const dpctl_spec_t *add_spec;                   /* "dpctl area add" */
    const ProtobufCMessageDescriptor *list_request; /* dp.ListAreasRequest */
    const ProtobufCMessageDescriptor *list_reply;   /* dp.ListAreasReply */
    const ProtobufCMessageDescriptor *add_request;  /* dp.AddAreaRequest */
    const ProtobufCMessageDescriptor *add_reply;    /* dp.AddAreaReply */
    const ProtobufCMessageDescriptor *item;         /* dp.Area */
} s_reference_t;

static const dpctl_spec_t s_area_list_spec = {"area list", "", "List the areas of cooperation.",
                                              0,           0,  NULL};
static const dpctl_spec_t s_area_add_spec = {
    "area add", "SLUG LABEL", "Add an area of cooperation.", 2, 2, NULL};
static const dpctl_spec_t s_form_list_spec = {"form list", "", "List the forms of cooperation.",
                                              0,           0,  NULL};
static const dpctl_spec_t s_form_add_spec = {
    "form add", "SLUG LABEL", "Add a form of cooperation.", 2, 2, NULL};

static const dpctl_spec_t s_kind_list_spec = {
    "enquiry kinds list", "", "List the kinds of enquiry that submissions may name.", 0, 0, NULL};
static const dpctl_spec_t s_kind_add_spec = {
    "enquiry kinds add", "SLUG LABEL", "Add a kind of enquiry.", 2, 2, NULL};

static const s_reference_t s_areas = {"area",
                                      DPCTL_REGISTRY,
                                      &s_area_list_spec,
                                      &s_area_add_spec,
                                      &dp__list_areas_request__descriptor,
                                      &dp__list_areas_reply__descriptor,
                                      &dp__add_area_request__descriptor,
                                      &dp__add_area_reply__descriptor,
                                      &dp__area__descriptor};

static const s_reference_t s_forms = {"form",
                                      DPCTL_REGISTRY,
                                      &s_form_list_spec,
                                      &s_form_add_spec,
                                      &dp__list_forms_request__descriptor,
                                      &dp__list_forms_reply__descriptor,
                                      &dp__add_form_request__descriptor,
                                      &dp__add_form_reply__descriptor,
                                      &dp__form__descriptor};

static const s_reference_t s_kinds = {"kind",
                                      DPCTL_INTAKE,
                                      &s_kind_list_spec,
                                      &s_kind_add_spec,
                                      &dp__list_enquiry_kinds_request__descriptor,
                                      &dp__list_enquiry_kinds_reply__descriptor,
                                      &dp__add_enquiry_kind_request__descriptor,
                                      &dp__add_enquiry_kind_reply__descriptor,
                                      &dp__enquiry_kind__descriptor};

/* Sends Add<Noun>Request; returns 0 with *reply set, or -1 with *status. */
static int s_add(dpctl_t *self, const s_reference_t *reference, const char *slug, const char *label,
                 ProtobufCMessage **reply, dp_status_t *status)
{
    ProtobufCMessage *request = dpctl_message_new(reference->add_request);
    ProtobufCMessage *item = dpctl_message_new(reference->item);
    int outcome = -1;
    *reply = NULL;
    if (request && item) {
        dpctl_field_set_string(item, "slug", slug);
        dpctl_field_set_string(item, "label", label);
        dpctl_field_set_message(request, reference->noun, item);
        outcome = dpctl_call_status(self, reference->service, request, reference->add_reply, reply,
                                    status);
    } else {
        status->code = DP__CODE__CODE_RESOURCE_EXHAUSTED;
        snprintf(status->message, sizeof status->message, "out of memory");
        status->field[0] = '\0';
    }
    free(item);
    free(request);
    return outcome;
}

int dpctl_reference_add(dpctl_t *self, const char *list, const char *slug, const char *label,
                        dp_status_t *status)
{
    const s_reference_t *reference = strcmp(list, "form") == 0 ? &s_forms : &s_areas;
    ProtobufCMessage *reply = NULL;
    int outcome = s_add(self, reference, slug, label, &reply, status);
    dp_message_free(&reply);
    return outcome;
}

static int s_print_added(dpctl_t *self, const s_reference_t *reference,
                         const ProtobufCMessage *reply)
{
    const ProtobufCMessage *item = dpctl_field_message(reply, reference->noun);
    if (!item) {
        fprintf(stderr, "dpctl: the %s's reply holds no %s\n",
                dpctl_service_name(reference->service), reference->noun);
        return DPCTL_EXIT_FAILURE;
    }
    if (self->json)
        return dpctl_json_print_message(item);
    printf("added %s %s: %s\n", reference->noun, dpctl_field_string(item, "slug"),
           dpctl_field_string(item, "label"));
    return DPCTL_EXIT_OK;
}

static int s_add_run(dpctl_t *self, const s_reference_t *reference, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(reference->add_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    dp_status_t status;
    ProtobufCMessage *reply = NULL;
    if (s_add(self, reference, dpctl_args_operand(args, 0), dpctl_args_operand(args, 1), &reply,
              &status) == 0)
        outcome = s_print_added(self, reference, reply);
    else {
        dpctl_report_status(&status);
        outcome = DPCTL_EXIT_FAILURE;
    }
    dp_message_free(&reply);
    dpctl_args_destroy(&args);
    return outcome;
}

static int s_print_items(dpctl_t *self, const ProtobufCMessage *reply)
{
    static const char *headers[] = {"SLUG", "LABEL"};
    dpctl_listing_t *listing = dpctl_listing_new(self->json, headers, 2);
    int outcome = listing ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
    size_t count = 0;
    ProtobufCMessage **items = dpctl_field_items(reply, &count);
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < count; i++) {
        const char *cells[] = {dpctl_field_string(items[i], "slug"),
                               dpctl_field_string(items[i], "label")};
        if (dpctl_listing_add(listing, items[i], cells) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    }
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_listing_print(listing);
    dpctl_listing_destroy(&listing);
    return outcome;
}

static int s_list_run(dpctl_t *self, const s_reference_t *reference, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(reference->list_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    dpctl_args_destroy(&args);
    ProtobufCMessage *request = dpctl_message_new(reference->list_request);
    ProtobufCMessage *reply = NULL;
    outcome = request ? dpctl_call(self, reference->service, request, reference->list_reply, &reply)
                      : DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_print_items(self, reply);
    dp_message_free(&reply);
    free(request);
    return outcome;
}

static int s_area_list_run(dpctl_t *self, int argc, char **argv)
{
    return s_list_run(self, &s_areas, argc, argv);
}

static int s_area_add_run(dpctl_t *self, int argc, char **argv)
{
    return s_add_run(self, &s_areas, argc, argv);
}

static int s_form_list_run(dpctl_t *self, int argc, char **argv)
{
    return s_list_run(self, &s_forms, argc, argv);
}

static int s_form_add_run(dpctl_t *self, int argc, char **argv)
{
    return s_add_run(self, &s_forms, argc, argv);
}

static int s_kind_list_run(dpctl_t *self, int argc, char **argv)
{
    return s_list_run(self, &s_kinds, argc, argv);
}

static int s_kind_add_run(dpctl_t *self, int argc, char **argv)
{
    return s_add_run(self, &s_kinds, argc, argv);
}

static const dpctl_command_t s_area_commands[] = {
    {"list", "list the areas", s_area_list_run},
    {"add", "add an area: SLUG LABEL", s_area_add_run},
};

static const dpctl_command_t s_form_commands[] = {
    {"list", "list the forms", s_form_list_run},
    {"add", "add a form: SLUG LABEL", s_form_add_run},
};

static const dpctl_command_t s_kind_commands[] = {
    {"list", "list the kinds", s_kind_list_run},
    {"add", "add a kind: SLUG LABEL", s_kind_add_run},
};

static const dpctl_group_t s_area_group = {
    "area", "Areas (spheres) of cooperation, which partners declare and engagements name.",
    s_area_commands, sizeof s_area_commands / sizeof s_area_commands[0]};

static const dpctl_group_t s_form_group = {"form", "Forms of cooperation, which engagements name.",
                                           s_form_commands,
                                           sizeof s_form_commands / sizeof s_form_commands[0]};

int dpctl_area_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_area_group, argc, argv);
}

static const dpctl_group_t s_kind_group = {
    "enquiry kinds", "Kinds of enquiry (a submission's kind names one).", s_kind_commands,
    sizeof s_kind_commands / sizeof s_kind_commands[0], "list"};

int dpctl_form_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_form_group, argc, argv);
}

int dpctl_enquiry_kinds_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_kind_group, argc, argv);
}
