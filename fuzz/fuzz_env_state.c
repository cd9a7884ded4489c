/* fuzz_env_state.c - libFuzzer harness for the environment state reader (cd/env_state.c): parse the bytes
 * as a state file; what parses must write back to JSON that parses to the same JSON again (nothing lost
 * or invented in a round trip), copy deeply and answer the model-artifact question. No filesystem. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cd/env_state.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env_state s, again, copy;
	struct err e = ERR_INIT;
	cJSON *j1, *j2;
	char *t1, *t2;

	if (env_state_parse(&s, (const char *)data, size, "fuzz.json", &e) < 0) {
		if (!err_msg(&e)[0])
			abort(); /* a refusal always says why */
		err_release(&e);
		env_state_release(&s);
		return 0;
	}
	j1 = env_state_to_json(&s);
	t1 = cJSON_PrintUnformatted(j1);
	if (!t1 || env_state_parse(&again, t1, strlen(t1), "round trip", &e) < 0)
		abort(); /* what mlci writes it must read back */
	j2 = env_state_to_json(&again);
	t2 = cJSON_PrintUnformatted(j2);
	if (!t2 || strcmp(t1, t2) != 0)
		abort(); /* and read back the same */
	env_state_copy(&copy, &s);
	if (env_state_same_deploy(&copy, &s) != env_state_same_deploy(&s, &s))
		abort();
	(void)env_state_model_artifact(&copy);
	free(t1);
	free(t2);
	cJSON_Delete(j1);
	cJSON_Delete(j2);
	env_state_release(&copy);
	env_state_release(&again);
	env_state_release(&s);
	err_release(&e);
	return 0;
}
