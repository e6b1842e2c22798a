/* dp-notify: the notifications service. */
#include "dp_service.h"
#include "notify_server.h"

int main(int argc, char **argv)
{
    const dp_service_t service = {"dp-notify",
                                  "the notifications service (event stream)",
                                  "notify",
                                  notify_settings,
                                  notify_setting_count,
                                  notify_actor};
    return dp_service_main(&service, argc, argv);
}
