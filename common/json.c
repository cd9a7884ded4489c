/* json.c - the one set of cJSON member accessors (see json.h): cJSON_GetObjectItemCaseSensitive plus a
 * type check and a default. Must not allocate, print or change the JSON it reads. */
#include "common/json.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "common/banned.h"

/* The member "key" of the object "o", or NULL (a NULL or non-object "o" included). */
static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

const char *json_str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = member(o, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

double json_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = member(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int json_int(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = member(o, key);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

int64_t json_int64(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = member(o, key);
	/* 2^63 is exact as a double; every double below it and at least -2^63 converts without overflow */
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble >= 9223372036854775808.0 ||
	    v->valuedouble < -9223372036854775808.0)
		return dflt;
	return (int64_t)v->valuedouble;
}

int json_bool(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = member(o, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

const cJSON *json_obj(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);
	return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *json_arr(const cJSON *o, const char *key)
{
	const cJSON *v = member(o, key);
	return cJSON_IsArray(v) ? v : NULL;
}
