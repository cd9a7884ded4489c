/* fuzz_schema.c - libFuzzer harness for the schema file parser: parse, and when valid, write it back and
 * require that the writer's output parses again. It must not touch the filesystem. */
#include <stddef.h>
#include <stdint.h>

#include "checks/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schema s, s2;
	struct strvec d = STRVEC_INIT;
	if (schema_parse_buffer(&s, (const char *)data, size, "fuzz.yaml", &d) == 0) {
		struct buf b = BUF_INIT;
		schema_write_yaml(&s, "fuzz", &b);
		if (schema_parse_buffer(&s2, b.ptr, b.len, "again.yaml", &d) != 0)
			__builtin_trap(); /* what we write must read back */
		if (s2.n_cols != s.n_cols)
			__builtin_trap();
		schema_release(&s2);
		buf_release(&b);
		schema_release(&s);
	}
	strvec_clear(&d);
	return 0;
}
