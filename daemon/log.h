/* Daemon logging. Never log secrets, plaintext, names or free text. */
#ifndef CUSTODY_LOG_H
#define CUSTODY_LOG_H

void log_set_verbose(int);
void log_set_quiet(int);
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
