/* Daemon logging. Never log secrets, plaintext, names or free text. */
#ifndef CUSTODY_LOG_H
#define CUSTODY_LOG_H

void log_set_verbose(int);
void log_set_quiet(int);
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * How the log names an office or a peer: "office " and the first 16 hex digits of its key (the
 * name of its feed ref), never its name. buf receives it; returns buf.
 */
#define LOG_KEY_LEN 24
const char *log_key(char buf[static LOG_KEY_LEN], const unsigned char pk[static 32]);

#endif
