/* dp-report: the reporting service (read-only). */
#include "dp_service.h"
#include "report_server.h"

int main(int argc, char **argv)
{
    const dp_service_t service = {"dp-report",
                                  "the reporting service and dashboard (read-only)",
                                  "report",
                                  report_settings,
                                  report_setting_count,
                                  report_actor};
    return dp_service_main(&service, argc, argv);
}
