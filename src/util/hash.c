/* File checksums through OpenSSL's libcrypto (SHA-256), for run summaries and download verification. */
#include "vnp/util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int vnp_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        vnp_error("cannot open '%s': %s", path, strerror(errno));
        return errno == ENOENT ? VNP_ERR_NOTFOUND : VNP_ERR_IO;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t bufsize = 1 << 20;
    unsigned char *buf = malloc(bufsize);
    int rc = ctx && buf && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? VNP_OK : VNP_ERR_NOMEM;
    size_t n;
    while (rc == VNP_OK && (n = fread(buf, 1, bufsize, f)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1) rc = VNP_ERR_INTERNAL;
    if (rc == VNP_OK && ferror(f)) {
        vnp_error("reading '%s' failed: %s", path, strerror(errno));
        rc = VNP_ERR_IO;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (rc == VNP_OK && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) rc = VNP_ERR_INTERNAL;
    if (rc == VNP_OK)
        for (unsigned int i = 0; i < mdlen && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    free(buf);
    fclose(f);
    return rc;
}
