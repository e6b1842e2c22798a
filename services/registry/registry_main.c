/* dp-registry: the partner registry service. */
#include "dp_service.h"
#include "registry_server.h"

int main(int argc, char **argv)
{
    const dp_service_t service = {
        "dp-registry",     "the partner registry service", "registry",
        registry_settings, registry_setting_count,         registry_actor};
    return dp_service_main(&service, argc, argv);
}
