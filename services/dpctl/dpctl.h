/* dpctl, the operator's command-line client: what every command module
   shares. A command is a function run with its own argv (argv[0] is the
   command's word); it returns the process exit code. Groups of commands
   ("partner", "partner contact") dispatch through a table, so a new command
   is one table row. */
#ifndef DPCTL_H
#define DPCTL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "dp_client.h"
#include "dp_config.h"

enum {
    DPCTL_EXIT_OK = 0,      /* done, and the answer was good */
    DPCTL_EXIT_FAILURE = 1, /* the service refused, failed or did not answer */
    DPCTL_EXIT_USAGE = 2    /* the command line was wrong; nothing was sent */
};

/* The services dpctl talks to; dpctl_call.c names them and their endpoints. */
typedef enum {
    DPCTL_REGISTRY, /* partners, areas, forms: DP_REGISTRY_ENDPOINT */
    DPCTL_INTAKE,   /* enquiries, triage rules, kinds: DP_INTAKE_ENDPOINT */
    DPCTL_NOTIFY,   /* events, consumers, webhooks: DP_NOTIFY_ENDPOINT (live on the PUB) */
    DPCTL_REPORT,   /* reports and the dashboard: DP_REPORT_ENDPOINT */
    DPCTL_CONSOLE,  /* the staff console's accounts: DP_CONSOLE_ENDPOINT (not in `dpctl status`
                       without --service: the four above are the system's core) */
    DPCTL_SERVICE_COUNT
} dpctl_service_t;

typedef struct {
    dp_config_t *config;                       /* settings from the environment */
    dp_client_t *clients[DPCTL_SERVICE_COUNT]; /* each made on its first call, so --help and
                                                  the registry's commands need no intake */
    bool json;                                 /* --json: one JSON document on stdout */
} dpctl_t;

typedef int(dpctl_run_fn)(dpctl_t *self, int argc, char **argv);

typedef struct {
    const char *name;    /* the word on the command line */
    const char *summary; /* one line for the enclosing --help */
    dpctl_run_fn *run;   /* runs the command; argv[0] is the name */
} dpctl_command_t;

typedef struct {
    const char *path;                /* words that lead here, e.g. "partner contact" */
    const char *summary;             /* one line for the group's --help */
    const dpctl_command_t *commands; /* the group's commands */
    size_t count;                    /* rows in commands */
    const char *default_command;     /* run when no command is named, or NULL */
} dpctl_group_t;

/* Runs the command named by argv[1]; argv[0] is the group's own word. */
int dpctl_dispatch(dpctl_t *self, const dpctl_group_t *group, int argc, char **argv);

/* The service's name ("registry"), as `dpctl status` prints it. */
const char *dpctl_service_name(dpctl_service_t service);
/* The service's endpoints from the configuration (borrowed). */
const char *dpctl_service_endpoints(const dpctl_t *self, dpctl_service_t service);
/* The service called name; returns 0, or -1 when there is none. */
int dpctl_service_find(const char *name, dpctl_service_t *service);
/* The services' names joined by "|", for messages and --help. */
const char *dpctl_service_names(char *buffer, size_t size);

/* The CURVE keys for the service when DP_CURVE_DIR is set: the service's
   public key from the key folder and dpctl's own DP_CURVE_CLIENT_CERT.
   Returns 1 (release with dp_client_keys_free), 0 when CURVE is off, or -1
   with the reason in *status. Every socket dpctl opens to a service gets
   its keys here. */
int dpctl_service_keys(const dpctl_t *self, dpctl_service_t service, dp_client_keys_t *keys,
                       dp_status_t *status);

/* Calls a service. Returns 0 when it answered OK (free *reply with
   dp_message_free); otherwise -1 with the verdict in *status. Prints nothing. */
int dpctl_call_status(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply,
                      dp_status_t *status);

/* As dpctl_call_status, but reports a failure on stderr. Returns
   DPCTL_EXIT_OK or DPCTL_EXIT_FAILURE. */
int dpctl_call(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
               const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply);

/* Prints "dpctl: CODE: message (field: x)" on stderr. */
void dpctl_report_status(const dp_status_t *status);
/* As dpctl_report_status, naming the service that answered so, for commands
   that ask several: "dpctl: registry: CODE: message". */
void dpctl_report_service_status(dpctl_service_t service, const dp_status_t *status);

/* Called once for every item of every page; returns 0 to go on. */
typedef int(dpctl_item_fn)(void *sink, const ProtobufCMessage *item);

/* Sends a list request (a message with page_token) and hands every item of
   the reply's repeated message field to `each`. With all, follows
   next_page_token to the last page; otherwise stops after one page and
   names the next token on stderr. Returns an exit code. */
int dpctl_call_pages(dpctl_t *self, dpctl_service_t service, ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_type, bool all, dpctl_item_fn *each,
                     void *sink);

/* The commands of the top-level table. */
int dpctl_status_run(dpctl_t *self, int argc, char **argv);
int dpctl_partner_run(dpctl_t *self, int argc, char **argv);
int dpctl_area_run(dpctl_t *self, int argc, char **argv);
int dpctl_form_run(dpctl_t *self, int argc, char **argv);
int dpctl_seed_run(dpctl_t *self, int argc, char **argv);
int dpctl_enquiry_run(dpctl_t *self, int argc, char **argv);
int dpctl_events_run(dpctl_t *self, int argc, char **argv);   /* dpctl_events.c */
int dpctl_webhooks_run(dpctl_t *self, int argc, char **argv); /* dpctl_webhooks.c */
int dpctl_report_run(dpctl_t *self, int argc, char **argv);   /* dpctl_report.c */
int dpctl_keys_run(dpctl_t *self, int argc, char **argv);     /* dpctl_keys.c */
int dpctl_privacy_run(dpctl_t *self, int argc, char **argv);  /* dpctl_privacy.c */
int dpctl_staff_run(dpctl_t *self, int argc, char **argv);    /* dpctl_staff.c */

/* Adds one area or form (list is "area" or "form"), for seeding. Returns 0
   when added, else -1 with the verdict in *status. */
int dpctl_reference_add(dpctl_t *self, const char *list, const char *slug, const char *label,
                        dp_status_t *status);

#endif
