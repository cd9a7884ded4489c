/* fuzz_contract.c - libFuzzer harness for the contract case parser and the JSON path/matcher code: parse a
 * case file from memory, check every case against fixed responses, parse the input as a JSON path. No I/O. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks/contract.h"
#include "common/buf.h"
#include "common/strvec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(const cJSON *v, const char *where, void *payload)
{
	(void)v;
	(void)where;
	(*(size_t *)payload)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bodies[] = {
		"{\"model_name\":\"m\",\"outputs\":[{\"name\":\"p\",\"shape\":[1],\"data\":[0.5]},"
		"{\"name\":\"label\",\"data\":[\"a\"]}],\"a.b\":{\"c\":[[1,2],[3]]},\"error\":null}",
		"[1,\"x\",true,null,{\"k\":[]}]",
		"not json",
		"",
	};
	struct contract_cases c = CONTRACT_CASES_INIT;
	struct strvec d = STRVEC_INIT;
	int r = contract_parse_buffer(&c, (const char *)data, size, "fuzz.yaml", &d);
	if (r == 0 && d.n)
		__builtin_trap(); /* success never comes with diagnostics */
	if (r < 0 && !d.n)
		__builtin_trap(); /* a failure always says why */
	for (size_t i = 0; i < c.n; i++) {
		const struct contract_case *k = &c.items[i];
		if (!k->name || !k->path || k->path[0] != '/' || !k->method || !k->n_status)
			__builtin_trap(); /* a parsed case is complete */
		for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
			struct contract_result res;
			contract_result_init(&res);
			contract_check_response(k, 200, 1.0, bodies[b], strlen(bodies[b]), &res);
			contract_result_release(&res);
		}
	}
	/* the input as a JSON path */
	if (size < 512) {
		char *text = malloc(size + 1);
		struct contract_path p;
		struct buf why = BUF_INIT;
		if (text) {
			memcpy(text, data, size);
			text[size] = '\0';
			if (contract_path_parse(text, &p, &why) == 0) {
				cJSON *j = cJSON_Parse(bodies[0]);
				size_t n = 0;
				contract_path_each(j, &p, ignore, &n);
				cJSON_Delete(j);
				contract_path_release(&p);
			} else if (!why.len) {
				__builtin_trap();
			}
			free(text);
		}
		buf_release(&why);
	}
	contract_cases_release(&c);
	strvec_clear(&d);
	return 0;
}
