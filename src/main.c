#include "platform.h"
int main(void)
{
    return 0;
}
