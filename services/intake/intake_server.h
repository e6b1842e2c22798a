/* The intake service as an actor: start it with dp_server_start
   (intake_actor, config), config made from intake_settings. */
#ifndef INTAKE_SERVER_H
#define INTAKE_SERVER_H

#include <czmq.h>

#include "dp_config.h"

extern const dp_setting_t intake_settings[];
extern const size_t intake_setting_count;

void intake_actor(zsock_t *pipe, void *config);

#endif
