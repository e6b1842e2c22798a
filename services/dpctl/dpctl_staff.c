/* dpctl staff list|add|disable|enable|reset-password: the staff console's
   accounts, kept by the console service (DP_CONSOLE_ENDPOINT) in its own
   schema. A password never goes on the command line, where other users
   see it in the process list and it stays in the shell's history: it is
   read from standard input (--password-stdin), or made here from
   libsodium's random bytes and printed once. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.pb-c.h"
#include "dpctl.h"
#include "dpctl_args.h"
#include "dpctl_output.h"
#include "dpctl_proto.h"

/* The console's bounds (console.proto): a password of 12..256 bytes. */
enum { S_PASSWORD_MIN = 12, S_PASSWORD_MAX = 256, S_GENERATED_LENGTH = 20 };

/* Letters and digits without the look-alikes (0/O, 1/l/I), so that a
   password read aloud or copied by hand survives: 57 symbols, 20 of them
   make about 116 bits. */
static const char s_alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/* A password on its way to the console: from standard input or made here. */
typedef struct {
    char text[S_PASSWORD_MAX + 2]; /* NUL-terminated; wiped by s_password_wipe */
    bool generated;                /* made here: printed once after the call */
} s_password_t;

static void s_password_wipe(s_password_t *password)
{
    sodium_memzero(password->text, sizeof password->text);
}

/* Fills the password with S_GENERATED_LENGTH symbols of s_alphabet, each
   drawn uniformly: a byte counts only below the largest multiple of the
   alphabet's size (so no symbol is likelier than another). 0 or -1. */
static int s_password_generate(s_password_t *password)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "dpctl: libsodium cannot start: no random source for a password\n");
        return -1;
    }
    const unsigned size = sizeof s_alphabet - 1;
    const unsigned limit = 256 / size * size;
    size_t length = 0;
    while (length < S_GENERATED_LENGTH) {
        unsigned char bytes[64];
        randombytes_buf(bytes, sizeof bytes);
        for (size_t i = 0; i < sizeof bytes && length < S_GENERATED_LENGTH; i++)
            if (bytes[i] < limit)
                password->text[length++] = s_alphabet[bytes[i] % size];
        sodium_memzero(bytes, sizeof bytes);
    }
    password->text[length] = '\0';
    password->generated = true;
    return 0;
}

/* Reads one line of standard input (its line break dropped) as the
   password. Returns DPCTL_EXIT_OK, or a usage error that names the bounds
   but never echoes what was read. */
static int s_password_read(const dpctl_args_t *args, s_password_t *password)
{
    int c = 0;
    size_t length = 0;
    bool too_long = false, nul = false;
    while ((c = getchar()) != EOF && c != '\n') {
        nul = nul || c == '\0';
        if (length < S_PASSWORD_MAX + 1)
            password->text[length++] = (char)c;
        else
            too_long = true;
    }
    if (length && password->text[length - 1] == '\r')
        length--;
    password->text[length] = '\0';
    password->generated = false;
    if (!length)
        return dpctl_args_error(args, "--password-stdin: standard input holds no password "
                                      "(give it as one line)");
    if (nul)
        return dpctl_args_error(args, "--password-stdin: the password holds a NUL byte");
    if (length > S_PASSWORD_MAX || too_long || length < S_PASSWORD_MIN)
        return dpctl_args_error(args, "--password-stdin: the password must have %d to %d bytes",
                                S_PASSWORD_MIN, S_PASSWORD_MAX);
    return DPCTL_EXIT_OK;
}

/* The password the command line asks for: --password-stdin, else a new one. */
static int s_password_take(const dpctl_args_t *args, s_password_t *password)
{
    if (dpctl_args_has(args, "password-stdin"))
        return s_password_read(args, password);
    return s_password_generate(password) == 0 ? DPCTL_EXIT_OK : DPCTL_EXIT_FAILURE;
}

/* ---- one account ---------------------------------------------------------------- */

static const char *s_role(Dp__StaffRole role, char *buffer, size_t size)
{
    return dpctl_enum_label(&dp__staff_role__descriptor, (int)role, buffer, size);
}

static const char *s_or(const char *value, const char *fallback)
{
    return *value ? value : fallback;
}

static void s_print_account(const Dp__StaffAccount *account)
{
    char role[32];
    dpctl_print_field("login:", account->login);
    dpctl_print_field("name:", account->name);
    dpctl_print_field("role:", s_role(account->role, role, sizeof role));
    dpctl_print_field("disabled:", account->disabled ? "yes" : "no");
    dpctl_print_field("created:", account->created_at);
    dpctl_print_field("last login:", s_or(account->last_login_at, "never"));
    dpctl_print_field("locked until:", s_or(account->locked_until, "-"));
    dpctl_print_fieldf("sessions:", "%" PRIu32, account->active_sessions);
}

/* Prints the account a reply holds and, when it was made here, the
   password: on standard output only, once, never in a log. */
static int s_show(const dpctl_t *self, const Dp__StaffAccount *account,
                  const s_password_t *password)
{
    if (!account) {
        fprintf(stderr, "dpctl: the console's reply holds no account\n");
        return DPCTL_EXIT_FAILURE;
    }
    bool shown = password->generated;
    if (self->json) {
        json_t *document = dpctl_json_message(&account->base);
        if (document && shown)
            json_object_set_new(document, "generated_password", json_string(password->text));
        return dpctl_json_print(&document);
    }
    s_print_account(account);
    if (shown) {
        dpctl_print_field("password:", password->text);
        printf("\nThe password is shown this once: give it to %s in a safe way.\n", account->name);
    }
    return DPCTL_EXIT_OK;
}

/* Sends a change of one account and prints the account the console
   answers with (each reply here is { StaffAccount account = 1; }). With
   with_password, the request's password is read or made first. */
static int s_change(dpctl_t *self, const dpctl_args_t *args, ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *reply_type, bool with_password)
{
    s_password_t password = {0};
    int outcome = with_password ? s_password_take(args, &password) : DPCTL_EXIT_OK;
    if (with_password)
        dpctl_field_set_string(request, "password", password.text);
    ProtobufCMessage *reply = NULL;
    if (outcome == DPCTL_EXIT_OK)
        outcome = dpctl_call(self, DPCTL_CONSOLE, request, reply_type, &reply);
    if (outcome == DPCTL_EXIT_OK)
        outcome = s_show(self, (const Dp__StaffAccount *)dpctl_field_message(reply, "account"),
                         &password);
    s_password_wipe(&password);
    dp_message_free(&reply);
    return outcome;
}

/* ---- list -------------------------------------------------------------------------- */

static const dpctl_spec_t s_list_spec = {
    "staff list",
    "",
    "List the staff console's accounts: role, whether disabled, last login, a lockout after "
    "failed logins, and open sessions.",
    0,
    0,
    NULL};

static int s_add_row(dpctl_listing_t *listing, const Dp__StaffAccount *account)
{
    char role[32], sessions[16];
    snprintf(sessions, sizeof sessions, "%" PRIu32, account->active_sessions);
    const char *cells[] = {account->login,
                           account->name,
                           s_role(account->role, role, sizeof role),
                           account->disabled ? "yes" : "no",
                           s_or(account->last_login_at, "never"),
                           s_or(account->locked_until, "-"),
                           sessions};
    return dpctl_listing_add(listing, &account->base, cells);
}

static int s_list_run(dpctl_t *self, int argc, char **argv)
{
    static const char *headers[] = {"LOGIN",      "NAME",         "ROLE",    "DISABLED",
                                    "LAST LOGIN", "LOCKED UNTIL", "SESSIONS"};
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_list_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    dpctl_args_destroy(&args);
    Dp__ListStaffRequest request = DP__LIST_STAFF_REQUEST__INIT;
    Dp__ListStaffReply *reply = NULL;
    outcome = dpctl_call(self, DPCTL_CONSOLE, &request.base, &dp__list_staff_reply__descriptor,
                         (ProtobufCMessage **)&reply);
    dpctl_listing_t *listing =
        outcome == DPCTL_EXIT_OK ? dpctl_listing_new(self->json, headers, 7) : NULL;
    if (outcome == DPCTL_EXIT_OK && !listing)
        outcome = DPCTL_EXIT_FAILURE;
    for (size_t i = 0; outcome == DPCTL_EXIT_OK && i < reply->n_accounts; i++)
        if (s_add_row(listing, reply->accounts[i]) != 0)
            outcome = DPCTL_EXIT_FAILURE;
    if (outcome == DPCTL_EXIT_OK) {
        dpctl_listing_align_numbers(listing);
        dpctl_listing_fit(listing, 1, dpctl_output_width(), 12);
        outcome = dpctl_listing_print(listing);
    }
    if (outcome == DPCTL_EXIT_OK && !self->json)
        printf("\n%zu account%s\n", reply->n_accounts, reply->n_accounts == 1 ? "" : "s");
    dpctl_listing_destroy(&listing);
    dp_message_free((ProtobufCMessage **)&reply);
    return outcome;
}

/* ---- add ----------------------------------------------------------------------------- */

#define S_PASSWORD_STDIN_OPTION                                                                    \
    {                                                                                              \
        "password-stdin", DPCTL_FLAG, NULL,                                                        \
            "read the password from one line of standard input (default: make a random one "       \
            "and print it once)"                                                                   \
    }

static const dpctl_option_t s_add_options[] = {
    {"name", DPCTL_TEXT, "\"FULL NAME\"", "the person's name, as history and audit show it", false,
     true},
    {"role", DPCTL_CHOICE, NULL,
     "agent works the queue and reads the register; admin also edits the register, admits "
     "partners and runs operations (default: agent)",
     false, false, &dp__staff_role__descriptor},
    S_PASSWORD_STDIN_OPTION,
    {NULL}};

static const dpctl_spec_t s_add_spec = {
    "staff add",
    "LOGIN",
    "Add a staff account LOGIN ([a-z0-9._-], 2 to 64 characters) for the console. The "
    "password (12 to 256 bytes) comes from standard input with --password-stdin, or is made "
    "here and printed once; it is never given on the command line.",
    1,
    1,
    s_add_options};

static int s_add_run(dpctl_t *self, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_add_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    Dp__AddStaffRequest request = DP__ADD_STAFF_REQUEST__INIT;
    request.login = (char *)dpctl_args_operand(args, 0);
    request.name = (char *)dpctl_args_text(args, "name", "");
    request.role = (Dp__StaffRole)dpctl_args_choice(args, "role", DP__STAFF_ROLE__STAFF_ROLE_AGENT);
    outcome = s_change(self, args, &request.base, &dp__add_staff_reply__descriptor, true);
    dpctl_args_destroy(&args);
    return outcome;
}

/* ---- disable | enable ------------------------------------------------------------------ */

static const dpctl_spec_t s_disable_spec = {
    "staff disable",
    "LOGIN",
    "Disable a staff account: it can no longer log in, and every session it has ends at once.",
    1,
    1,
    NULL};

static const dpctl_spec_t s_enable_spec = {
    "staff enable", "LOGIN", "Enable a disabled staff account again.", 1, 1, NULL};

static int s_switch(dpctl_t *self, const dpctl_spec_t *spec, bool enable, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    Dp__DisableStaffRequest request = DP__DISABLE_STAFF_REQUEST__INIT;
    request.login = (char *)dpctl_args_operand(args, 0);
    request.enable = enable;
    outcome = s_change(self, args, &request.base, &dp__disable_staff_reply__descriptor, false);
    dpctl_args_destroy(&args);
    return outcome;
}

static int s_disable_run(dpctl_t *self, int argc, char **argv)
{
    return s_switch(self, &s_disable_spec, false, argc, argv);
}

static int s_enable_run(dpctl_t *self, int argc, char **argv)
{
    return s_switch(self, &s_enable_spec, true, argc, argv);
}

/* ---- reset-password ----------------------------------------------------------------------- */

static const dpctl_option_t s_reset_options[] = {S_PASSWORD_STDIN_OPTION, {NULL}};

static const dpctl_spec_t s_reset_spec = {
    "staff reset-password",
    "LOGIN",
    "Give a staff account a new password (from standard input with --password-stdin, or made "
    "here and printed once): every session of the account ends and a lockout is lifted.",
    1,
    1,
    s_reset_options};

static int s_reset_run(dpctl_t *self, int argc, char **argv)
{
    int outcome;
    dpctl_args_t *args = dpctl_args_parse(&s_reset_spec, argc, argv, &outcome);
    if (!args)
        return outcome;
    Dp__ResetStaffPasswordRequest request = DP__RESET_STAFF_PASSWORD_REQUEST__INIT;
    request.login = (char *)dpctl_args_operand(args, 0);
    outcome =
        s_change(self, args, &request.base, &dp__reset_staff_password_reply__descriptor, true);
    dpctl_args_destroy(&args);
    return outcome;
}

/* ---- the group ------------------------------------------------------------------------------ */

static const dpctl_command_t s_commands[] = {
    {"list", "list the accounts", s_list_run},
    {"add", "add an account: LOGIN --name \"FULL NAME\" [--role agent|admin]", s_add_run},
    {"disable", "disable an account and end its sessions: LOGIN", s_disable_run},
    {"enable", "enable a disabled account: LOGIN", s_enable_run},
    {"reset-password", "give an account a new password: LOGIN", s_reset_run},
};

static const dpctl_group_t s_group = {
    "staff", "The staff console's accounts, kept by the console service (DP_CONSOLE_ENDPOINT).",
    s_commands, sizeof s_commands / sizeof s_commands[0], "list"};

int dpctl_staff_run(dpctl_t *self, int argc, char **argv)
{
    return dpctl_dispatch(self, &s_group, argc, argv);
}
