/*
 * Feature macros and banned functions, in one place (after Redis's fmacros.h).
 * Every file in src/ includes this first.
 */
#ifndef AZR_PLATFORM_H
#define AZR_PLATFORM_H

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#if !defined(_POSIX_C_SOURCE) && !defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define AZR_MUST_CHECK       __attribute__((warn_unused_result))
#define AZR_PRINTF(fmt, arg) __attribute__((format(printf, fmt, arg)))
/* Unbounded or error-blind functions: use snprintf and our own parsers. */
#pragma GCC poison sprintf vsprintf strcpy strcat strncat strtok gets atoi atol
#else
#define AZR_MUST_CHECK
#define AZR_PRINTF(fmt, arg)
#endif

#endif
