/* version.c - `mlci version` / `mlci --version`: mlci's version and the libraries it runs with. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <git2.h>
#include <libssh2.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <yaml.h>

#include "cmd/cmd.h"
#include "common/banned.h"

int cmd_version(struct strvec *args, struct cmd_ctx *ctx)
{
	int major = 0, minor = 0, rev = 0;
	(void)args; /* none: max_args 0 */
	git_libgit2_version(&major, &minor, &rev);
	if (ctx->json) {
		printf("{\"mlci\":\"%s\",\"libgit2\":\"%d.%d.%d\",\"libcurl\":\"%s\",\"libyaml\":\"%s\","
		       "\"cjson\":\"%s\",\"sqlite\":\"%s\",\"libssh2\":\"%s\",\"openssl\":\"%s\"}\n",
		       MLCI_VERSION, major, minor, rev, curl_version_info(CURLVERSION_NOW)->version,
		       yaml_get_version_string(), cJSON_Version(), sqlite3_libversion(), libssh2_version(0),
		       OpenSSL_version(OPENSSL_VERSION));
		return 0;
	}
	printf("mlci %s\n", MLCI_VERSION);
	if (ctx->verbose)
		printf("libgit2 %d.%d.%d, libcurl %s, libyaml %s, cJSON %s, SQLite %s, libssh2 %s, %s\n", major, minor,
		       rev, curl_version_info(CURLVERSION_NOW)->version, yaml_get_version_string(), cJSON_Version(),
		       sqlite3_libversion(), libssh2_version(0), OpenSSL_version(OPENSSL_VERSION));
	return 0;
}
