/* Staff accounts: made, listed, disabled and given new passwords, by
   operators over ZeroMQ (dpctl staff ...) and by admins on the admin page.
   Both go through the functions here; every change is in the console's
   audit with who made it. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "console_service.h"
#include "dp_handler.h"
#include "dp_log.h"
#include "dp_validate.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

const char *console_role_text(Dp__StaffRole role)
{
    return role == DP__STAFF_ROLE__STAFF_ROLE_ADMIN ? "admin" : "agent";
}

static int s_refuse(dp_status_t *status, Dp__Code code, const char *field, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int s_refuse(dp_status_t *status, Dp__Code code, const char *field, const char *format, ...)
{
    char message[sizeof status->message];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return dp_status_set(status, code, field, message);
}

static int s_db_failure(dp_status_t *status, dp_db_t *db)
{
    return s_refuse(status, dp_db_failure_code(db), NULL, "database: %s",
                    dp_db_failure_message(db));
}

static bool s_valid_login(const char *login)
{
    size_t length = strlen(login);
    if (length < 2 || length > 64)
        return false;
    for (const char *c = login; *c; c++)
        if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || strchr("._-", *c)))
            return false;
    return true;
}

static int s_check_login(const char *login, dp_status_t *status)
{
    if (s_valid_login(login))
        return 0;
    return s_refuse(status, INVALID, "login",
                    "login must be 2 to 64 characters of a-z, 0-9, '.', '_' and '-'");
}

static int s_check_password(const char *password, dp_status_t *status)
{
    const char *reason = NULL;
    if (console_password_acceptable(password, &reason))
        return 0;
    return s_refuse(status, INVALID, "password", "%s", reason);
}

static void s_ok(dp_status_t *status)
{
    dp_status_set(status, DP__CODE__CODE_OK, NULL, NULL);
}

int console_staff_add(dp_db_t *db, const char *actor, const char *login, const char *name,
                      Dp__StaffRole role, const char *password, dp_status_t *status)
{
    if (s_check_login(login, status) < 0)
        return -1;
    if (!dp_valid_required_text(name, 100))
        return s_refuse(status, INVALID, "name", "name must be the person's name (1 to 100 bytes)");
    if (role != DP__STAFF_ROLE__STAFF_ROLE_AGENT && role != DP__STAFF_ROLE__STAFF_ROLE_ADMIN)
        return s_refuse(status, INVALID, "role", "role must be agent or admin");
    if (s_check_password(password, status) < 0)
        return -1;
    char hash[CONSOLE_PASSWORD_HASH_MAX];
    if (console_password_hash(password, hash) != 0)
        return s_refuse(status, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL,
                        "not enough memory to hash the password");
    int64_t id = 0;
    if (console_db_add_staff(db, login, name, console_role_text(role), hash, &id) < 0) {
        /* The name is how the services record the person: one account each. */
        if (dp_db_failure(db) == DP_DB_UNIQUE_VIOLATION &&
            strcmp(dp_db_failure_constraint(db), "staff_name_key") == 0)
            return s_refuse(status, DP__CODE__CODE_ALREADY_EXISTS, "name",
                            "an account for a person named '%s' exists", name);
        if (dp_db_failure(db) == DP_DB_UNIQUE_VIOLATION)
            return s_refuse(status, DP__CODE__CODE_ALREADY_EXISTS, "login",
                            "an account with login '%s' exists", login);
        return s_db_failure(status, db);
    }
    if (console_db_audit(db, actor, "add account", login, "", console_role_text(role)) < 0)
        dp_warning("audit: could not record that %s added account %s", actor, login);
    dp_info("audit: %s added staff account %s (%s)", actor, login, console_role_text(role));
    s_ok(status);
    return 0;
}

static int s_changed(dp_db_t *db, int changed, const char *actor, const char *action,
                     const char *login, dp_status_t *status)
{
    if (changed < 0)
        return s_db_failure(status, db);
    if (changed == 0)
        return s_refuse(status, DP__CODE__CODE_NOT_FOUND, "login", "no account '%s'", login);
    if (console_db_audit(db, actor, action, login, "", "") < 0)
        dp_warning("audit: could not record that %s did '%s' to %s", actor, action, login);
    dp_info("audit: %s: %s %s (its sessions ended)", actor, action, login);
    s_ok(status);
    return 0;
}

int console_staff_disable(dp_db_t *db, const char *actor, const char *login, bool enable,
                          dp_status_t *status)
{
    if (s_check_login(login, status) < 0)
        return -1;
    return s_changed(db, console_db_set_disabled(db, login, !enable), actor,
                     enable ? "enable account" : "disable account", login, status);
}

int console_staff_reset(dp_db_t *db, const char *actor, const char *login, const char *password,
                        dp_status_t *status)
{
    if (s_check_login(login, status) < 0 || s_check_password(password, status) < 0)
        return -1;
    char hash[CONSOLE_PASSWORD_HASH_MAX];
    if (console_password_hash(password, hash) != 0)
        return s_refuse(status, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL,
                        "not enough memory to hash the password");
    return s_changed(db, console_db_set_password(db, login, hash), actor, "reset password", login,
                     status);
}

/* ---- the ZeroMQ handlers ------------------------------------------------------------ */

/* The account as it is now, into the reply (after a change). */
static void s_reply_account(console_t *console, dp_reply_t *reply, const char *login,
                            const ProtobufCMessageDescriptor *type)
{
    Dp__StaffAccount **accounts = NULL;
    size_t count = 0;
    if (console_db_list_staff(console->db, dp_reply_arena(reply), login, &console->policy,
                              &accounts, &count) < 0 ||
        count != 1) {
        dp_reply_db_failure(reply, console->db);
        return;
    }
    /* Every reply of these requests is { StaffAccount account = 1; }. */
    ProtobufCMessage *answer = dp_arena_alloc(dp_reply_arena(reply), type->sizeof_message);
    if (!answer) {
        dp_reply_error(reply, DP__CODE__CODE_RESOURCE_EXHAUSTED, NULL, "out of memory");
        return;
    }
    protobuf_c_message_init(type, answer);
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(type, "account");
    *(Dp__StaffAccount **)((char *)answer + field->offset) = accounts[0];
    dp_reply_ok(reply, answer);
}

static void s_answer(console_t *console, dp_reply_t *reply, int outcome, const dp_status_t *status,
                     const char *login, const ProtobufCMessageDescriptor *type)
{
    if (outcome < 0)
        dp_reply_error(reply, status->code, *status->field ? status->field : NULL, "%s",
                       status->message);
    else
        s_reply_account(console, reply, login, type);
}

static void s_add(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    console_t *console = state;
    const Dp__AddStaffRequest *request = (const Dp__AddStaffRequest *)message;
    dp_status_t status;
    int outcome = console_staff_add(console->db, dp_reply_actor(reply, "operator"), request->login,
                                    request->name, request->role, request->password, &status);
    s_answer(console, reply, outcome, &status, request->login, &dp__add_staff_reply__descriptor);
}

static void s_list(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    console_t *console = state;
    (void)message;
    Dp__ListStaffReply answer = DP__LIST_STAFF_REPLY__INIT;
    int outcome = console_db_list_staff(console->db, dp_reply_arena(reply), "", &console->policy,
                                        &answer.accounts, &answer.n_accounts);
    dp_reply_read(reply, console->db, outcome, &answer.base);
}

static void s_disable(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    console_t *console = state;
    const Dp__DisableStaffRequest *request = (const Dp__DisableStaffRequest *)message;
    dp_status_t status;
    int outcome = console_staff_disable(console->db, dp_reply_actor(reply, "operator"),
                                        request->login, request->enable, &status);
    s_answer(console, reply, outcome, &status, request->login,
             &dp__disable_staff_reply__descriptor);
}

static void s_reset(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    console_t *console = state;
    const Dp__ResetStaffPasswordRequest *request = (const Dp__ResetStaffPasswordRequest *)message;
    dp_status_t status;
    int outcome = console_staff_reset(console->db, dp_reply_actor(reply, "operator"),
                                      request->login, request->password, &status);
    s_answer(console, reply, outcome, &status, request->login,
             &dp__reset_staff_password_reply__descriptor);
}

/* Staff keys only (dpctl staff): accounts are the operators' business. */
const dp_route_t console_routes[] = {
    {&dp__add_staff_request__descriptor, s_add, NULL, DP_ROLE_STAFF},
    {&dp__list_staff_request__descriptor, s_list, NULL, DP_ROLE_STAFF},
    {&dp__disable_staff_request__descriptor, s_disable, NULL, DP_ROLE_STAFF},
    {&dp__reset_staff_password_request__descriptor, s_reset, NULL, DP_ROLE_STAFF},
};
const size_t console_route_count = sizeof console_routes / sizeof console_routes[0];
