#ifndef GREYOAK_CCRYPTO_SHIM_H
#define GREYOAK_CCRYPTO_SHIM_H
// OpenSSL's libcrypto: libpq already loads it into every greyoak process (for TLS and
// SCRAM), so SHA-256 costs no new library and no compile time. Only the EVP digest API.
#include <openssl/evp.h>
#endif
