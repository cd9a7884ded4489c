/* sha256.c - SHA-256 through OpenSSL's EVP interface.
 * Must not hand-roll the hash; errors go to the error chain. */
#include "common/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "common/banned.h"

int sha256_init(struct sha256_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		c->md = NULL;
		return -1;
	}
	c->md = md;
	return 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	if (c->md && len)
		EVP_DigestUpdate(c->md, data, len);
}

void sha256_update_str(struct sha256_ctx *c, const char *s)
{
	if (s)
		sha256_update(c, s, strlen(s) + 1);
	else
		sha256_update(c, "\xff", 1);
}

void sha256_final_hex(struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	hex[0] = '\0';
	if (!c->md)
		return;
	EVP_DigestFinal_ex(c->md, md, &n);
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
	for (unsigned int i = 0; i < n && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[SHA256_HEX_LEN] = '\0';
}

void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final_hex(&c, hex);
}

int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1], struct err *e)
{
	struct sha256_ctx c;
	char tmp[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, MLCI_EINFRA, "could not open '%s' for hashing", path);
	if (sha256_init(&c) < 0) {
		close(fd);
		return err_set(e, MLCI_EINFRA, "could not initialise sha256");
	}
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, MLCI_EINFRA, "could not read '%s'", path);
			sha256_final_hex(&c, hex);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&c, tmp, (size_t)n);
	}
	close(fd);
	sha256_final_hex(&c, hex);
	return 0;
}
