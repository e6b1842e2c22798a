/* What the partner commands share: naming a partner on the command line,
   and printing one. */
#ifndef DPCTL_PARTNER_H
#define DPCTL_PARTNER_H

#include "dpctl.h"
#include "dpctl_args.h"
#include "registry.pb-c.h"

/* Reads the index-th operand as a partner: all digits is an id, anything
   else a slug (borrowed). Returns 0, or a usage error's exit code. */
int dpctl_partner_ref(const dpctl_args_t *args, size_t index, Dp__PartnerRef *ref);

/* The joining date at its precision: "2017-11-08", "2020-02" or "2020". */
const char *dpctl_partner_joined(const Dp__Partner *partner, char *buffer, size_t size);

/* Sends a request whose reply holds one `partner` and prints that partner
   (with its membership on as_of, when given). Returns an exit code. */
int dpctl_partner_call(dpctl_t *self, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *reply_type, const char *as_of);

/* The end of most partner commands: reads operand 0 into ref (which the
   request points to), sends the request, prints the partner and destroys
   the arguments (nulling *args_p). Returns an exit code. */
int dpctl_partner_finish(dpctl_t *self, dpctl_args_t **args_p, Dp__PartnerRef *ref,
                         const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *reply_type, const char *as_of);

/* The commands of the group, by file. */
int dpctl_partner_list_run(dpctl_t *self, int argc, char **argv); /* dpctl_partner.c */
int dpctl_partner_show_run(dpctl_t *self, int argc, char **argv);
int dpctl_partner_add_run(dpctl_t *self, int argc, char **argv); /* dpctl_partner_edit.c */
int dpctl_partner_update_run(dpctl_t *self, int argc, char **argv);
/* rename and withdraw, by argv[0]. */
int dpctl_partner_change_run(dpctl_t *self, int argc, char **argv);
int dpctl_partner_contact_run(dpctl_t *self, int argc, char **argv); /* dpctl_contact.c */
int dpctl_partner_engage_run(dpctl_t *self, int argc, char **argv);  /* dpctl_engagement.c */
int dpctl_partner_engagements_run(dpctl_t *self, int argc, char **argv);

#endif
