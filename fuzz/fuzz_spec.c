/* fuzz_spec.c - libFuzzer harness for the mlci.yaml parser: parse, format every diag, query, release.
 * It must not touch the filesystem (spec_check_paths is left out) so runs are independent. */
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec s;
	struct diags d;
	struct buf b = BUF_INIT;
	spec_init(&s);
	diags_init(&d);
	spec_parse_buffer(&s, (const char *)data, size, "fuzz.yaml", &d);
	for (size_t i = 0; i < d.n; i++) {
		buf_reset(&b);
		diag_format(&d, i, &b);
	}
	/* whatever parsed must be safe to use */
	spec_environment_for_branch(&s, "main");
	spec_environment_for_branch(&s, "dev/x");
	for (size_t i = 0; i < s.n_components; i++) {
		(void)spec_component_index(&s, s.components[i].name);
		for (size_t k = 0; k < s.components[i].needs.n; k++)
			if (s.components[i].need_idx[k] >= s.n_components && d.n == 0)
				__builtin_trap(); /* a valid spec must resolve every need */
	}
	buf_release(&b);
	spec_release(&s);
	diags_release(&d);
	return 0;
}
