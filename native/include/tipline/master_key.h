// Where the 32-byte master key comes from: a key file or an environment
// variable's value. The master key never encrypts data itself; keysets are
// wrapped and blind indexes keyed under subkeys derived from it by HKDF.
//
// Key file format: exactly 64 hexadecimal characters (either case) and an
// optional final "\n", nothing else. The file must be a regular file that
// neither group nor others may access (mode 0600 or 0400); a looser mode is
// refused with an error that says how to fix it. Symlinks are followed (the
// mode checked is the target's), so mounted secrets work.
//
// Text form (environment variable values): 64 hex characters, or the 32
// bytes in base64 (standard or URL-safe alphabet, padding optional);
// surrounding whitespace is ignored.
//
// Error messages name files but never contain key bytes or file contents.
#ifndef TIPLINE_MASTER_KEY_H_
#define TIPLINE_MASTER_KEY_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "tipline/secret.h"
#include "tipline/status.h"

namespace tipline {

inline constexpr size_t kMasterKeySize = 32;

// A fresh master key from the CSPRNG.
[[nodiscard]] Result<SecretBytes> NewMasterKey();

// Parses the text form (see above). kInvalidArgument otherwise.
[[nodiscard]] Result<SecretBytes> ParseMasterKey(std::string_view text);

// Reads a key file. kNotFound if it does not exist; kInvalidArgument for a
// loose mode, a non-regular file or bad contents.
[[nodiscard]] Result<SecretBytes> LoadMasterKeyFile(const std::string& path);

// Writes `master_key` as a key file at `path`, atomically and without ever
// replacing an existing file: the key goes to a 0600 temporary file in the
// same directory (O_CREAT | O_EXCL | O_NOFOLLOW), is fsync'ed, then hard
// linked to `path` (which fails if `path` exists) and the temporary name is
// removed. So `path` either does not exist or holds the complete key.
// kFailedPrecondition if `path` exists; kInvalidArgument for other failures.
[[nodiscard]] Status WriteMasterKeyFile(const std::string& path,
                                        const SecretBytes& master_key);

// NewMasterKey() written with WriteMasterKeyFile().
[[nodiscard]] Status CreateMasterKeyFile(const std::string& path);

}  // namespace tipline

#endif  // TIPLINE_MASTER_KEY_H_
