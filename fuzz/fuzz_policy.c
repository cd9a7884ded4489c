/* fuzz_policy.c - libFuzzer harness for the policy.yaml parser and freeze windows: parse, format every
 * diag, ask the policy questions of whatever parsed, release. No filesystem, no clock. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cd/policy.h"
#include "spec/freeze.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec s;
	struct diags d;
	struct buf b = BUF_INIT;
	struct policy p;
	spec_init(&s);
	diags_init(&d);
	spec_parse_policy_buffer(&s, (const char *)data, size, "policy.yaml", &d);
	for (size_t i = 0; i < d.n; i++) {
		buf_reset(&b);
		diag_format(&d, i, &b);
	}
	memset(&p, 0, sizeof(p));
	p.spec = &s;
	for (size_t i = 0; i < s.n_environments; i++) {
		const struct spec_environment *env = &s.environments[i];
		time_t until;
		buf_reset(&b);
		policy_describe_approvers(&p, env, &b);
		(void)policy_is_approver(&p, env, "alice");
		(void)policy_frozen(&p, env, (time_t)1795634070, &until);
		(void)policy_supersede(env);
	}
	/* the raw bytes as one freeze window and one time, too */
	if (size < 256) {
		char text[256];
		struct freeze_window w;
		const char *why;
		time_t t, until;
		memcpy(text, data, size);
		text[size] = '\0';
		if (freeze_parse(text, &w, &why) == 0)
			(void)freeze_active(&w, (time_t)1795634070, &until);
		(void)freeze_parse_time(text, &t);
	}
	buf_release(&b);
	spec_release(&s);
	diags_release(&d);
	return 0;
}
