#include "console_text.h"

#include <string.h>

const console_texts_t console_english = {
    .product = "Digital Partnership console",
    .skip_to_content = "Skip to the content",
    .nav_label = "Main",
    .nav_partners = "Partners",
    .nav_staff = "Staff accounts",
    .nav_events = "Event stream",
    .view = "View",
    .view_all = "All enquiries",
    .view_mine = "Mine",
    .view_unassigned = "Unassigned",
    .view_due_today = "Due today",
    .view_overdue = "Overdue",
    .role_admin = "admin",
    .role_agent = "agent",
    .log_out = "Log out",
    .log_out_everywhere = "Log out everywhere",
    .required = "required",
    .never = "never",
    .now = "now",
    .none = "None.",
    .any = "Any",
    .login_title = "Log in",
    .login_name = "Login",
    .password = "Password",
    .log_in = "Log in",
    .login_failed = "Wrong login or password.",
    .login_locked =
        "This account is locked after too many failed logins. Try again later or ask an admin.",
    .login_address_throttled = "Too many failed logins from your address. Try again later.",
    .login_form_expired = "The login form expired. Please try again.",
    .forbidden_title = "Not allowed",
    .csrf_refused = "This form was not sent from this console (its security token is missing or "
                    "wrong). Nothing was changed.",
    .admins_only = "Only admins may do this.",
    .unavailable_title = "Service unavailable",
    .refused_title = "Not done",
    .database_unavailable = "A service did not answer. Nothing was changed; please try again.",
    .back_to_queue = "Back to my queue",
    .not_found_title = "Not found",
    .not_found = "There is no such page.",
    .unknown_action = "Unknown action.",
    .unknown_view = "Unknown view.",
    .queue_title = "Enquiries",
    .status = "Status",
    .kind = "Kind",
    .search = "Search subject and body",
    .source = "Source",
    .partner_slug = "Partner (slug)",
    .area_slug = "Area (slug)",
    .received_from = "Received from",
    .received_to = "Received to",
    .sort = "Sort",
    .sort_newest = "Newest first",
    .sort_oldest = "Oldest first",
    .sort_due = "Soonest due",
    .apply = "Apply",
    .enquiries_found = "enquiries",
    .subject = "Subject",
    .sender_column = "From",
    .assignee = "Assignee",
    .received = "Received",
    .due = "Due",
    .queue_empty = "No enquiry matches.",
    .next_page = "Next page",
    .no_subject = "(no subject)",
    .enquiry = "Enquiry",
    .details = "Details",
    .sender = "Sender",
    .email = "E-mail",
    .organisation = "Organisation",
    .country = "Country",
    .language = "Language",
    .first_response = "First response",
    .resolved = "Resolved",
    .outcome = "Outcome",
    .merged_into = "Merged into",
    .triage = "Triage",
    .partner = "Partner",
    .no_partner = "No partner matched",
    .areas_submitted = "Areas submitted",
    .areas_suggested = "Areas suggested",
    .possible_duplicate = "Possible duplicate of",
    .quarantine_reason = "Quarantine reason",
    .history = "History",
    .notes = "Notes",
    .no_notes = "No notes yet.",
    .messages = "Messages",
    .no_messages = "No reply sent yet.",
    .actions = "Actions",
    .assign_to_me = "Assign to me",
    .assign_to = "Assign to",
    .note_optional = "Note (optional)",
    .assign = "Assign",
    .move_to = "Move to",
    .move = "Move",
    .note = "Note",
    .add_note = "Add note",
    .due_on = "Due on",
    .reason = "Reason",
    .change_due = "Change due date",
    .merge_explain = "Merge this enquiry into its original, enquiry",
    .merge = "Merge into original",
    .reply_title = "Reply to the enquirer",
    .reply_body = "Message",
    .send_reply = "Send reply",
    .reply_needs_assignee = "A reply can be written once the enquiry is assigned.",
    .admit_title = "Admit as a partner",
    .partner_name = "Name",
    .partner_kind = "Kind",
    .kind_company = "Company",
    .kind_association = "Association",
    .domains = "E-mail domains",
    .joined_on = "Joined on",
    .joined_precision = "Known to the",
    .precision_day = "day",
    .precision_month = "month",
    .precision_year = "year",
    .admit = "Admit as partner",
    .partners_title = "Partners",
    .name_search = "Name (current or former)",
    .as_of = "As of",
    .partners_shown = "partners",
    .former_names = "Former names",
    .withdrawn = "withdrawn",
    .active = "active",
    .names_over_time = "Names over time",
    .contacts = "Contacts",
    .engagements = "Engagements",
    .instrument = "Instrument",
    .areas = "Areas",
    .admitted_from = "Admitted from enquiry",
    .forms = "Forms of engagement",
    .bad_value = "This value is not one this field takes.",
    .enquiries_more_than = "enquiries and more",
    .incomplete_answer = "A service answered without what was asked for. Nothing was changed here.",
    .matches_shown = "matches on this page (newest first unless sorted)",
    .edit = "Edit",
    .new_name = "New name",
    .effective_on = "Effective on",
    .rename = "Rename",
    .contact_name = "Contact's name",
    .contact_role = "Contact's role",
    .add_contact = "Add contact",
    .engagement_title = "Title",
    .engagement_form = "Form (slug)",
    .starts_on = "Starts on",
    .record_engagement = "Record engagement",
    .withdrawn_on = "Withdrawn on",
    .withdraw = "Record withdrawal",
    .staff_title = "Staff accounts",
    .accounts = "accounts",
    .person_name = "Name",
    .role = "Role",
    .state = "State",
    .last_login = "Last login",
    .locked_until = "Locked until",
    .sessions = "Sessions",
    .enabled = "enabled",
    .disabled = "disabled",
    .add_account = "Add an account",
    .new_password = "Password (12 characters or more)",
    .change_account = "Change an account",
    .action = "Action",
    .disable_account = "Disable (ends its sessions)",
    .enable_account = "Enable",
    .reset_password = "Set a new password (ends its sessions)",
    .new_password_reset = "New password (for a reset)",
    .events_title = "Event stream",
    .parked_title = "Parked events and webhook deliveries",
    .parked_events = "parked",
    .consumer = "Consumer",
    .event = "Event",
    .attempts = "Attempts",
    .parked_at = "Parked at",
    .last_error = "Last error",
    .replay = "Replay",
    .consumers_title = "Durable consumers",
    .topic = "Topic prefix",
    .lag = "Lag",
    .in_flight = "In flight",
    .webhooks_title = "Webhooks",
    .url = "URL",
    .pending = "Pending",
    .delivered_up_to = "Delivered up to",
};

const console_texts_t *console_texts(void)
{
    return &console_english;
}

static const struct status_row {
    const char *slug;
    Dp__EnquiryStatus status;
    const char *label;
} s_statuses[] = {
    {"received", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_RECEIVED, "Received"},
    {"triaged", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_TRIAGED, "Triaged"},
    {"assigned", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ASSIGNED, "Assigned"},
    {"answered", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_ANSWERED, "Answered"},
    {"closed", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_CLOSED, "Closed"},
    {"rejected", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_REJECTED, "Rejected"},
    {"quarantined", DP__ENQUIRY_STATUS__ENQUIRY_STATUS_QUARANTINED, "Quarantined"},
};

/* The row of a status, or NULL. */
static const struct status_row *s_status_row(Dp__EnquiryStatus status)
{
    for (size_t i = 0; i < sizeof s_statuses / sizeof *s_statuses; i++)
        if (s_statuses[i].status == status)
            return &s_statuses[i];
    return NULL;
}

const char *console_status_slug(Dp__EnquiryStatus status)
{
    return s_status_row(status) ? s_status_row(status)->slug : "";
}

const char *console_status_label(Dp__EnquiryStatus status)
{
    return s_status_row(status) ? s_status_row(status)->label : "Unknown";
}

bool console_status_parse(const char *slug, Dp__EnquiryStatus *status)
{
    for (size_t i = 0; i < sizeof s_statuses / sizeof *s_statuses; i++)
        if (strcmp(s_statuses[i].slug, slug) == 0) {
            *status = s_statuses[i].status;
            return true;
        }
    return false;
}

static const struct {
    const char *key;
    const char *text;
} s_done[] = {
    {"assign", "Assigned."},
    {"transition", "Status changed."},
    {"note", "Note added."},
    {"due", "Due date changed."},
    {"merge", "Merged into the original."},
    {"reply", "Reply stored; it is queued for sending."},
    {"admit", "Partner admitted; the application is closed."},
    {"saved", "Saved."},
    {"replayed", "Put back for delivery."},
    {"logged-out", "You are logged out."},
};

const char *console_done_text(const char *key)
{
    for (size_t i = 0; key && i < sizeof s_done / sizeof *s_done; i++)
        if (strcmp(s_done[i].key, key) == 0)
            return s_done[i].text;
    return NULL;
}
