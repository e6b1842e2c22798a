/* dp-console: the staff console (web pages over HTTP, staff accounts). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console_server.h"
#include "dp_service.h"

int main(int argc, char **argv)
{
    /* Dates and times are shown in the zone the staff work in (docs/console.md);
       set for the whole process before any thread starts. */
    const char *zone = getenv("DP_CONSOLE_TIME_ZONE");
    setenv("TZ", zone && *zone ? zone : "Europe/Paris", 1);
    tzset();
    const dp_service_t service = {"dp-console",
                                  "the staff console (web pages, staff accounts)",
                                  "console",
                                  console_settings,
                                  console_setting_count,
                                  console_actor};
    return dp_service_main(&service, argc, argv);
}
