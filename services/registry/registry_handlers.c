/* The registry's route table: which handler answers which request, and
   who may send it. The handlers are in one file per concern
   (registry_requests.h). */
#include "registry_handlers.h"

#include "dp_security.h"
#include "privacy.pb-c.h"
#include "registry_requests.h"

const dp_route_t registry_routes[] = {
    {&dp__create_partner_request__descriptor, registry_create},
    {&dp__get_partner_request__descriptor, registry_get, NULL, DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__list_partners_request__descriptor, registry_list, NULL, DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__update_partner_request__descriptor, registry_update},
    {&dp__rename_partner_request__descriptor, registry_rename},
    {&dp__withdraw_partner_request__descriptor, registry_withdraw},
    {&dp__add_contact_request__descriptor, registry_add_contact},
    {&dp__remove_contact_request__descriptor, registry_remove_contact},
    {&dp__record_engagement_request__descriptor, registry_engage},
    {&dp__list_engagements_request__descriptor, registry_list_engagements},
    {&dp__list_areas_request__descriptor, registry_list_areas, NULL,
     DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__add_area_request__descriptor, registry_add_area},
    {&dp__list_forms_request__descriptor, registry_list_forms, NULL,
     DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__add_form_request__descriptor, registry_add_form},
    {&dp__erase_personal_data_request__descriptor, registry_erase, NULL},
    {&dp__export_personal_data_request__descriptor, registry_export, NULL},
    {&dp__list_audit_request__descriptor, registry_list_audit, NULL},
    {&dp__list_partner_domains_request__descriptor, registry_list_domains, NULL,
     DP_ROLE_STAFF | DP_ROLE_SERVICE},
};
const size_t registry_route_count = sizeof registry_routes / sizeof registry_routes[0];
