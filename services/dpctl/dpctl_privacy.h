/* What the privacy commands share. A person is named by an e-mail address;
   the registry (contact persons) and the intake (enquiries) each answer for
   the data they hold, so most commands ask both and put the answers
   together. */
#ifndef DPCTL_PRIVACY_H
#define DPCTL_PRIVACY_H

#include "dpctl.h"
#include "dpctl_args.h"

/* The services that hold personal data, in the order they are asked. */
enum { DPCTL_PRIVACY_SERVICES = 2 };
extern const dpctl_service_t dpctl_privacy_services[DPCTL_PRIVACY_SERVICES];

/* The option row of commands made on a staff member's behalf, who is
   recorded in the audit trails (dpctl_actor reads it). */
#define DPCTL_PRIVACY_ACTOR_OPTION                                                                 \
    {                                                                                              \
        "actor", DPCTL_TEXT, "NAME",                                                               \
            "record the request as made by NAME (default: $DP_ACTOR, else the login name)"         \
    }

/* Checks an address given on the command line (what names it in the
   message: "EMAIL", "--subject"). Returns 0, or a usage error's exit code,
   so that nothing is sent, or confirmed, for a mistyped address. */
int dpctl_privacy_email(const dpctl_args_t *args, const char *what, const char *email);

/* As dpctl_call, naming the service in a failure's message
   ("dpctl: intake: UNAVAILABLE: ..."), since these commands ask two. */
int dpctl_privacy_call(dpctl_t *self, dpctl_service_t service, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply);

/* The commands of the group, by file. */
int dpctl_privacy_audit_run(dpctl_t *self, int argc, char **argv); /* dpctl_privacy_audit.c */

#endif
