/* The intake's background actors: the partner actor (intake_partners.c)
   keeps the partner map fresh without the server thread ever waiting on
   the registry or on the event stream, and the privacy actor
   (intake_privacy.c) runs retention and tombstones on a connection of
   its own. Both are started by intake_new with its dp_config_t. */
#ifndef INTAKE_PARTNERS_H
#define INTAKE_PARTNERS_H

#include <czmq.h>

#include "dp_config.h"

/* Sends the server ["PARTNERS", ListPartnerDomainsReply bytes,
   ListAreasReply bytes] for each fresh map and asks for no other until the
   server answers "INSTALLED" (or "REFUSED": asked again after a backoff);
   after "INSTALLED" it matches the enquiries stored without a map
   (partner_pending) and writes enquiry.partner_matched for each match. */
void intake_partners_actor(zsock_t *pipe, void *config);

/* Runs the privacy job (keyed hashes of old rows, tombstones after a
   restore, retention) as it starts and every DP_INTAKE_PRIVACY_JOB_MS,
   and reports each run to the server as ["PRIVACY", "<reapplied>",
   "<retained>"] (-1: the run failed). */
void intake_privacy_actor(zsock_t *pipe, void *config);

#endif
