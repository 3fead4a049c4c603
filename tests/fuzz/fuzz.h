/* The entry points libFuzzer calls, declared once for every harness. */
#ifndef CUSTODY_FUZZ_H
#define CUSTODY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
