#include "azrelay.h"

const char *azr_version(void)
{
    return AZRELAY_VERSION;
}
