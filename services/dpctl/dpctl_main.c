/* dpctl: global flags, configuration and the top-level command table. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_log.h"
#include "dp_security.h"
#include "dpctl.h"
#include "dpctl_args.h"

static const dp_setting_t s_settings[] = {
    {"DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101",
     "registry endpoint; several, comma-separated, spread the requests", false, 0, 0},
    {"DP_INTAKE_ENDPOINT", "tcp://127.0.0.1:7102",
     "intake endpoint; several, comma-separated, spread the requests", false, 0, 0},
    {"DP_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103",
     "notifications endpoint: replay, consumers, webhooks", false, 0, 0},
    {"DP_NOTIFY_PUB_ENDPOINT", "tcp://127.0.0.1:7104",
     "notifications live events (PUB), for 'dpctl events tail'", false, 0, 0},
    {"DP_REPORT_ENDPOINT", "tcp://127.0.0.1:7105",
     "reporting endpoint; several, comma-separated, spread the requests", false, 0, 0},
    {"DP_CONSOLE_ENDPOINT", "tcp://127.0.0.1:7106",
     "staff console's endpoint (ZeroMQ), for 'dpctl staff'", false, 0, 0},
    {"DP_ACTOR", "", "who staff changes to enquiries are recorded as (default: the login name)",
     false, 0, 0},
    {"DP_TIMEOUT_MS", "5000", "milliseconds to wait for each attempt's reply", true, 1, 3600000},
    {"DP_ATTEMPTS", "3", "attempts before a request counts as unanswered", true, 1, 100},
    {"DP_SEED_DIR", "./db/seed", "directory that 'dpctl seed' reads when given none", false, 0, 0},
    DP_SECURITY_SETTINGS,
};

static const dpctl_command_t s_commands[] = {
    {"status", "ask every service whether it and its database are well", dpctl_status_run},
    {"partner", "list, show, add and change partners, contacts and engagements", dpctl_partner_run},
    {"area", "list or add areas of cooperation", dpctl_area_run},
    {"form", "list or add forms of cooperation", dpctl_form_run},
    {"seed", "load the seed areas, forms and partners (safe to repeat)", dpctl_seed_run},
    {"enquiry", "submit, import, list, show and handle enquiries; triage rules and kinds",
     dpctl_enquiry_run},
    {"events", "follow and replay events; durable consumers and parked events", dpctl_events_run},
    {"webhooks", "add, list and remove webhooks that receive events", dpctl_webhooks_run},
    {"report", "reports on the partnership and enquiries; the dashboard page", dpctl_report_run},
    {"keys", "make and list CURVE certificates of the key folder", dpctl_keys_run},
    {"privacy", "a person's data: export, erase; retention; the audit trail", dpctl_privacy_run},
    {"staff", "list, add, disable, enable staff console accounts; reset a password",
     dpctl_staff_run},
};

static const dpctl_group_t s_top = {"", "the Digital Partnership's command-line client", s_commands,
                                    sizeof s_commands / sizeof s_commands[0]};

static bool s_is_help(const char *word)
{
    return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0;
}

static void s_print_commands(FILE *out, const dpctl_group_t *group)
{
    const char *space = *group->path ? " " : "";
    fprintf(out, "Commands:\n");
    for (size_t i = 0; i < group->count; i++) {
        const char *name = group->commands[i].name;
        bool is_default = group->default_command && strcmp(name, group->default_command) == 0;
        fprintf(out, "  %-14s %s%s\n", name, group->commands[i].summary,
                is_default ? " (the default)" : "");
    }
    fprintf(out, "\nRun 'dpctl%s%s COMMAND --help' for a command's options.\n", space, group->path);
}

static void s_print_group(const dpctl_group_t *group)
{
    printf("Usage: dpctl %s %s [ARGS]\n%s\n\n", group->path,
           group->default_command ? "[COMMAND]" : "COMMAND", group->summary);
    s_print_commands(stdout, group);
}

int dpctl_dispatch(dpctl_t *self, const dpctl_group_t *group, int argc, char **argv)
{
    if (argc < 2 && group->default_command) {
        char *words[] = {argv[0], (char *)group->default_command, NULL};
        return dpctl_dispatch(self, group, 2, words);
    }
    if (argc < 2)
        return dpctl_usage_error(group->path, "a command is missing");
    if (s_is_help(argv[1])) {
        s_print_group(group);
        return DPCTL_EXIT_OK;
    }
    for (size_t i = 0; i < group->count; i++)
        if (strcmp(argv[1], group->commands[i].name) == 0)
            return group->commands[i].run(self, argc - 1, argv + 1);
    return dpctl_usage_error(group->path, "unknown command '%s'", argv[1]);
}

/* The configuration's help frames the commands, so that it is printed once. */
static int s_print_top_help(const dp_config_t *config)
{
    char *usage = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&usage, &size);
    if (!out)
        return DPCTL_EXIT_FAILURE;
    fprintf(out, "dpctl [--json] COMMAND [ARGS]\n\n");
    s_print_commands(out, &s_top);
    fprintf(out, "\nGlobal options, before or after the command:\n"
                 "  --json         print one JSON document on stdout instead of text\n"
                 "  --help         print the help of dpctl, a group or a command\n"
                 "  --version      print the version\n"
                 "\nExit status: 0 done, 1 refused or no answer, 2 wrong command line.");
    fclose(out);
    dp_config_print_help(config, usage);
    free(usage);
    return DPCTL_EXIT_OK;
}

/* Takes --json out of argv wherever it stands before "--"; returns the new argc. */
static int s_take_global_flags(dpctl_t *self, int argc, char **argv)
{
    int kept = 1;
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        options_end = options_end || strcmp(argv[i], "--") == 0;
        if (!options_end && strcmp(argv[i], "--json") == 0)
            self->json = true;
        else
            argv[kept++] = argv[i];
    }
    argv[kept] = NULL;
    return kept;
}

static int s_run(dpctl_t *self, int argc, char **argv)
{
    argc = s_take_global_flags(self, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("dpctl %s\n", DP_VERSION);
        return DPCTL_EXIT_OK;
    }
    if (argc >= 2 && s_is_help(argv[1]))
        return s_print_top_help(self->config);
    return dpctl_dispatch(self, &s_top, argc, argv);
}

int main(int argc, char **argv)
{
    zsys_handler_set(NULL); /* let Ctrl-C end a command at once rather than in a retry loop */
    dp_log_init("dpctl", "warning"); /* the shared code's log lines: problems only */
    dpctl_t self = {0};
    self.config =
        dp_config_new("dpctl", s_top.summary, s_settings, sizeof s_settings / sizeof s_settings[0]);
    if (!self.config)
        return DPCTL_EXIT_FAILURE;
    int outcome =
        dp_config_load(self.config, 1, argv) == 0 ? s_run(&self, argc, argv) : DPCTL_EXIT_USAGE;
    for (int i = 0; i < DPCTL_SERVICE_COUNT; i++)
        dp_client_destroy(&self.clients[i]);
    dp_config_destroy(&self.config);
    return outcome;
}
