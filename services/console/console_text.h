/* Every English text of the console in one place, so that a French table
   (the Council of Europe works in English and French) is one more
   initialiser of console_texts_t. Pages write TXT->name. */
#ifndef CONSOLE_TEXT_H
#define CONSOLE_TEXT_H

#include <stdbool.h>

#include "intake.pb-c.h"

typedef struct {
    const char *product;
    const char *skip_to_content;
    const char *nav_label;
    const char *nav_partners;
    const char *nav_staff;
    const char *nav_events;
    const char *view;
    const char *view_all;
    const char *view_mine;
    const char *view_unassigned;
    const char *view_due_today;
    const char *view_overdue;
    const char *role_admin;
    const char *role_agent;
    const char *log_out;
    const char *log_out_everywhere;
    const char *required;
    const char *never;
    const char *now;
    const char *none;
    const char *any;
    const char *login_title;
    const char *login_name;
    const char *password;
    const char *log_in;
    const char *login_failed;
    const char *login_locked;
    const char *login_address_throttled;
    const char *login_form_expired;
    const char *forbidden_title;
    const char *csrf_refused;
    const char *admins_only;
    const char *unavailable_title;
    const char *refused_title;
    const char *database_unavailable;
    const char *back_to_queue;
    const char *not_found_title;
    const char *not_found;
    const char *unknown_action;
    const char *unknown_view;
    const char *queue_title;
    const char *status;
    const char *kind;
    const char *search;
    const char *source;
    const char *partner_slug;
    const char *area_slug;
    const char *received_from;
    const char *received_to;
    const char *sort;
    const char *sort_newest;
    const char *sort_oldest;
    const char *sort_due;
    const char *apply;
    const char *enquiries_found;
    const char *subject;
    const char *sender_column;
    const char *assignee;
    const char *received;
    const char *due;
    const char *queue_empty;
    const char *next_page;
    const char *no_subject;
    const char *enquiry;
    const char *details;
    const char *sender;
    const char *email;
    const char *organisation;
    const char *country;
    const char *language;
    const char *first_response;
    const char *resolved;
    const char *outcome;
    const char *merged_into;
    const char *triage;
    const char *partner;
    const char *no_partner;
    const char *areas_submitted;
    const char *areas_suggested;
    const char *possible_duplicate;
    const char *quarantine_reason;
    const char *history;
    const char *notes;
    const char *no_notes;
    const char *messages;
    const char *no_messages;
    const char *actions;
    const char *assign_to_me;
    const char *assign_to;
    const char *note_optional;
    const char *assign;
    const char *move_to;
    const char *move;
    const char *note;
    const char *add_note;
    const char *due_on;
    const char *reason;
    const char *change_due;
    const char *merge_explain;
    const char *merge;
    const char *reply_title;
    const char *reply_body;
    const char *send_reply;
    const char *reply_needs_assignee;
    const char *admit_title;
    const char *partner_name;
    const char *partner_kind;
    const char *kind_company;
    const char *kind_association;
    const char *domains;
    const char *joined_on;
    const char *joined_precision;
    const char *precision_day;
    const char *precision_month;
    const char *precision_year;
    const char *admit;
    const char *partners_title;
    const char *name_search;
    const char *as_of;
    const char *partners_shown;
    const char *former_names;
    const char *withdrawn;
    const char *active;
    const char *names_over_time;
    const char *contacts;
    const char *engagements;
    const char *instrument;
    const char *areas;
    const char *admitted_from;
    const char *forms;
    const char *bad_value;
    const char *enquiries_more_than;
    const char *matches_shown;
    const char *incomplete_answer;
    const char *edit;
    const char *new_name;
    const char *effective_on;
    const char *rename;
    const char *contact_name;
    const char *contact_role;
    const char *add_contact;
    const char *engagement_title;
    const char *engagement_form;
    const char *starts_on;
    const char *record_engagement;
    const char *withdrawn_on;
    const char *withdraw;
    const char *staff_title;
    const char *accounts;
    const char *person_name;
    const char *role;
    const char *state;
    const char *last_login;
    const char *locked_until;
    const char *sessions;
    const char *enabled;
    const char *disabled;
    const char *add_account;
    const char *new_password;
    const char *change_account;
    const char *action;
    const char *disable_account;
    const char *enable_account;
    const char *reset_password;
    const char *new_password_reset;
    const char *events_title;
    const char *parked_title;
    const char *parked_events;
    const char *consumer;
    const char *event;
    const char *attempts;
    const char *parked_at;
    const char *last_error;
    const char *replay;
    const char *consumers_title;
    const char *topic;
    const char *lag;
    const char *in_flight;
    const char *webhooks_title;
    const char *url;
    const char *pending;
    const char *delivered_up_to;
} console_texts_t;

extern const console_texts_t console_english;
/* The table pages use (English until a second language is chosen per person). */
const console_texts_t *console_texts(void);
#define TXT (console_texts())

/* Workflow statuses: "received" <-> DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED, and their labels.
 */
const char *console_status_slug(Dp__EnquiryStatus status);
const char *console_status_label(Dp__EnquiryStatus status);
bool console_status_parse(const char *slug, Dp__EnquiryStatus *status);
/* The message for ?done=KEY after a change, or NULL for an unknown key. */
const char *console_done_text(const char *key);

#endif
