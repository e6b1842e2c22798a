/* The registry service as an actor: start it with
   zactor_new (registry_actor, config) or dp_server_start, where config is a
   dp_config_t made from registry_settings (borrowed while the actor runs). */
#ifndef REGISTRY_SERVER_H
#define REGISTRY_SERVER_H

#include <czmq.h>

#include "dp_config.h"

extern const dp_setting_t registry_settings[];
extern const size_t registry_setting_count;

void registry_actor(zsock_t *pipe, void *config);

#endif
