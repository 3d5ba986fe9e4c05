/*
 * azrelay: forward local TCP connections to an Azure Relay hybrid connection.
 *
 * This is the only installed header. The proxy object (StartListening,
 * DoEvents, Config("Name=Value"), the Connected/Disconnected/Error/Log
 * events) is being built; until it lands, the library offers its version.
 * Every exported symbol starts with azr_, so a static link into firmware
 * cannot collide with the application's names.
 */
#ifndef AZRELAY_H
#define AZRELAY_H

#ifdef __cplusplus
extern "C" {
#endif

#define AZRELAY_VERSION "0.1.0"

/* The library's version, "MAJOR.MINOR.PATCH"; a static string. */
const char *azr_version(void);

#ifdef __cplusplus
}
#endif

#endif
