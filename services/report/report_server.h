/* The reporting service as an actor: start it with dp_server_start
   (report_actor, config), config made from report_settings. */
#ifndef REPORT_SERVER_H
#define REPORT_SERVER_H

#include <czmq.h>

#include "dp_config.h"

extern const dp_setting_t report_settings[];
extern const size_t report_setting_count;

/* Also answers "HTTP_PORT" on the pipe with the dashboard's port. */
void report_actor(zsock_t *pipe, void *config);

#endif
