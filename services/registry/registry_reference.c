/* Reference data: areas and forms (staff extend them), and the partner
   domains the intake matches senders with. */
#include <inttypes.h>
#include <string.h>

#include "events.pb-c.h"
#include "registry_requests.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- areas, forms and domains ---------------------------------------------------- */

typedef struct {
    const char *list;                                     /* "area" or "form" */
    int (*insert)(dp_db_t *, const char *, const char *); /* the list's insert */
    const char *slug;                                     /* the new term */
    const char *label;                                    /* its label */
} term_t;

static dp_txn_outcome_t s_add_term_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    const term_t *term = write->extra;
    int added = term->insert(db, term->slug, term->label);
    if (added < 0)
        return DP_TXN_FAILED;
    if (added == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_ALREADY_EXISTS, "slug",
                       "%s '%s' already exists", term->list, term->slug);
        return DP_TXN_ROLLBACK;
    }
    Dp__ReferenceEvent event = DP__REFERENCE_EVENT__INIT;
    event.list = (char *)term->list;
    event.slug = (char *)term->slug;
    event.label = (char *)term->label;
    const char *type =
        strcmp(term->list, "area") == 0 ? "reference.area_added" : "reference.form_added";
    return registry_db_append_event(db, type, term->list, term->slug, &event.base) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

/* Adds an area or a form; returns true when it was added. */
static bool s_add_term(registry_t *registry, dp_reply_t *reply, term_t *term)
{
    if (!term->slug || !term->label) {
        dp_reply_error(reply, INVALID, term->list, "%s is required", term->list);
        return false;
    }
    if (!dp_check_slug(reply, "slug", term->slug) ||
        !dp_check_text(reply, "label", term->label, REGISTRY_MAX_LABEL_BYTES, true))
        return false;
    registry_write_t write = {.registry = registry, .reply = reply, .extra = term};
    return registry_write_run(&write, s_add_term_body) == 0;
}

void registry_add_area(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddAreaRequest *request = (const Dp__AddAreaRequest *)message;
    term_t term = {"area", registry_db_insert_area, request->area ? request->area->slug : NULL,
                   request->area ? request->area->label : NULL};
    if (!s_add_term(state, reply, &term))
        return;
    Dp__AddAreaReply answer = DP__ADD_AREA_REPLY__INIT;
    answer.area = request->area;
    dp_reply_ok(reply, &answer.base);
}

void registry_add_form(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddFormRequest *request = (const Dp__AddFormRequest *)message;
    term_t term = {"form", registry_db_insert_form, request->form ? request->form->slug : NULL,
                   request->form ? request->form->label : NULL};
    if (!s_add_term(state, reply, &term))
        return;
    Dp__AddFormReply answer = DP__ADD_FORM_REPLY__INIT;
    answer.form = request->form;
    dp_reply_ok(reply, &answer.base);
}

void registry_list_areas(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((registry_t *)state)->db, &dp__list_areas_reply__descriptor,
                  registry_db_list_areas);
}

void registry_list_forms(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((registry_t *)state)->db, &dp__list_forms_reply__descriptor,
                  registry_db_list_forms);
}

void registry_list_domains(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    dp_reply_list(reply, ((registry_t *)state)->db, &dp__list_partner_domains_reply__descriptor,
                  registry_db_list_domains);
}
