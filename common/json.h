/* json.h - the one set of cJSON member accessors: a typed member of an object, or a default when the
 * object is NULL or not an object, the member is absent, or it has another type. Never allocates or
 * changes the JSON; the returned pointers are borrowed from it. */
#ifndef MLCI_JSON_H
#define MLCI_JSON_H

#include <stdint.h>

struct cJSON;

/* String member "key" of "o", or "dflt". */
const char *json_str(const struct cJSON *o, const char *key, const char *dflt);
/* Number member "key" of "o" (valuedouble), or "dflt". */
double json_num(const struct cJSON *o, const char *key, double dflt);
/* Number member "key" of "o" as an int (cJSON's valueint: truncated, saturated at INT_MIN/INT_MAX), or "dflt". */
int json_int(const struct cJSON *o, const char *key, int dflt);
/* Number member "key" of "o" truncated toward zero, for counts and *_ms times; "dflt" also when it is not
 * finite or outside int64_t. */
int64_t json_int64(const struct cJSON *o, const char *key, int64_t dflt);
/* Boolean member "key" of "o" as 1 or 0, or "dflt" (a number or string is not a boolean). */
int json_bool(const struct cJSON *o, const char *key, int dflt);
/* Object member, array member "key" of "o", or NULL. */
const struct cJSON *json_obj(const struct cJSON *o, const char *key);
const struct cJSON *json_arr(const struct cJSON *o, const char *key);

#endif
