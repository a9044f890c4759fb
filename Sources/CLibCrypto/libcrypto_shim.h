/* Brings OpenSSL's one-shot digest (EVP_Q_digest) into Swift, for the SHA-256 of each plugin
 * file that `autoglm plugins lock` records and the loader checks (Sources/AutoGLM/Plugins). */
#include <openssl/evp.h>
