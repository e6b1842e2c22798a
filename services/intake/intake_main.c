/* dp-intake: the enquiry intake service. */
#include "dp_service.h"
#include "intake_server.h"

int main(int argc, char **argv)
{
    const dp_service_t service = {"dp-intake",     "the enquiry intake service", "intake",
                                  intake_settings, intake_setting_count,         intake_actor};
    return dp_service_main(&service, argc, argv);
}
