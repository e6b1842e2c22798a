/* The notifications service as an actor: start it with dp_server_start
   (notify_actor, config), config made from notify_settings. */
#ifndef NOTIFY_SERVER_H
#define NOTIFY_SERVER_H

#include <czmq.h>

#include "dp_config.h"

extern const dp_setting_t notify_settings[];
extern const size_t notify_setting_count;

/* Also answers "PUB_ENDPOINT" on the pipe with the bound PUB endpoint. */
void notify_actor(zsock_t *pipe, void *config);

#endif
