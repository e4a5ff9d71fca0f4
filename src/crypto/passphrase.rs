//! A root key derived from a passphrase with Argon2id (RFC 9106), for operators who would rather
//! remember (or keep in a password manager) a passphrase than guard a 32-byte key file.
//!
//! The salt and the cost parameters are chosen once, when a data directory is initialised, and
//! stored beside it in the clear: they are not secret, and the same passphrase must stretch to
//! the same key on every start. Pure: no I/O beyond the OS random generator for the salt;
//! `server::datadir` reads and writes the parameters.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aead::KEY_LEN;
use super::{CryptoError, RootKey, SecretBytes, random_bytes};

/// The fewest characters a passphrase may have. Argon2id makes each guess cost a fraction of
/// a second and 64 MiB, which protects a passphrase of a few words, not a short password.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// A passphrase: zeroized on drop, redacted in `Debug`, no `PartialEq`.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

/// Why a passphrase was refused. The passphrase itself is never part of the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PassphraseRefused {
    /// Empty or only whitespace: most likely a variable or file that was meant to hold it.
    #[error("is empty")]
    Empty,
    /// Shorter than [`MIN_PASSPHRASE_CHARS`].
    #[error("is too short: a passphrase must be at least {MIN_PASSPHRASE_CHARS} characters")]
    TooShort,
}

impl Passphrase {
    /// Takes the passphrase exactly as given (no trimming: spaces may be part of it), refusing
    /// one that is empty or shorter than [`MIN_PASSPHRASE_CHARS`] characters.
    pub fn new(text: Zeroizing<String>) -> Result<Self, PassphraseRefused> {
        if text.trim().is_empty() {
            return Err(PassphraseRefused::Empty);
        }
        if text.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(PassphraseRefused::TooShort);
        }
        Ok(Self(text))
    }

    /// The passphrase's bytes (UTF-8), for the derivation.
    fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase([REDACTED])")
    }
}

/// Argon2id as RFC 9106 defines it; the only algorithm there is, named so a file says what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum KdfAlgorithm {
    #[serde(rename = "argon2id")]
    Argon2id,
}

/// Argon2's version 1.3 (0x13), the one RFC 9106 specifies.
const ARGON2_VERSION: u32 = 0x13;

/// The cost chosen for a new directory: 64 MiB, 3 passes, 1 lane. Above OWASP's minimum for
/// Argon2id (19 MiB, 2 passes, 1 lane) and, on a 2-core VM, about 0.2–0.35 s per derivation
/// in a release build: paid once per start, and by every guess an attacker makes.
const NEW_MEMORY_KIB: u32 = 64 * 1024;
const NEW_ITERATIONS: u32 = 3;
const NEW_PARALLELISM: u32 = 1;
/// Bytes of salt for a new directory (RFC 9106 recommends 16).
const NEW_SALT_LEN: usize = 16;

/// The weakest parameters a stored file may name (OWASP's minimum). Only Strongbox writes the
/// file, with stronger ones; a file edited down to cheap parameters would let whoever edited
/// it test guesses cheaply against what a fresh directory then seals, so it is refused.
const MIN_MEMORY_KIB: u32 = 19 * 1024;
const MIN_ITERATIONS: u32 = 2;
/// The most a stored file may ask for, so an edited file cannot make a start allocate or
/// compute without bound: 1 GiB, 64 passes, 16 lanes, 64 bytes of salt.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 16;
const MIN_SALT_LEN: usize = 16;
const MAX_SALT_LEN: usize = 64;

/// Argon2id's salt and cost for one data directory, as stored there (JSON, in the clear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassphraseKdf {
    algorithm: KdfAlgorithm,
    /// Argon2's version number (19, i.e. 0x13).
    version: u32,
    /// Memory per derivation, in KiB (Argon2's `m`).
    memory_kib: u32,
    /// Passes over that memory (Argon2's `t`).
    iterations: u32,
    /// Lanes (Argon2's `p`).
    parallelism: u32,
    /// The salt, hex.
    salt: String,
}

impl PassphraseKdf {
    /// Parameters for a new data directory: the default cost and a fresh random salt.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self {
            algorithm: KdfAlgorithm::Argon2id,
            version: ARGON2_VERSION,
            memory_kib: NEW_MEMORY_KIB,
            iterations: NEW_ITERATIONS,
            parallelism: NEW_PARALLELISM,
            salt: hex::encode(random_bytes(NEW_SALT_LEN)?),
        })
    }

    /// The stored form: one line of JSON.
    pub fn to_text(&self) -> String {
        // A struct of strings and integers always serialises; the fallback is unreachable.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses and checks the stored form. The reason given on refusal names the field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let kdf: Self = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
        kdf.argon2()?;
        Ok(kdf)
    }

    /// The Argon2id instance and salt these parameters describe, if they are within bounds.
    fn argon2(&self) -> Result<(argon2::Argon2<'static>, Vec<u8>), String> {
        if self.version != ARGON2_VERSION {
            return Err(format!(
                "Argon2 version {} is not supported (only 19)",
                self.version
            ));
        }
        if !(MIN_MEMORY_KIB..=MAX_MEMORY_KIB).contains(&self.memory_kib) {
            return Err(format!(
                "memory_kib {} is outside {MIN_MEMORY_KIB}..={MAX_MEMORY_KIB}",
                self.memory_kib
            ));
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&self.iterations) {
            return Err(format!(
                "iterations {} is outside {MIN_ITERATIONS}..={MAX_ITERATIONS}",
                self.iterations
            ));
        }
        if !(1..=MAX_PARALLELISM).contains(&self.parallelism) {
            return Err(format!(
                "parallelism {} is outside 1..={MAX_PARALLELISM}",
                self.parallelism
            ));
        }
        let salt = hex::decode(&self.salt).map_err(|_| "salt is not hex".to_string())?;
        if !(MIN_SALT_LEN..=MAX_SALT_LEN).contains(&salt.len()) {
            return Err(format!(
                "salt must be {MIN_SALT_LEN} to {MAX_SALT_LEN} bytes, not {}",
                salt.len()
            ));
        }
        let params = argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(KEY_LEN),
        )
        .map_err(|e| e.to_string())?;
        let argon2 =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        Ok((argon2, salt))
    }

    /// Stretches `passphrase` into the root key. Takes the time and memory the parameters
    /// name (a fraction of a second, 64 MiB by default); run it where blocking is fine.
    pub fn derive(&self, passphrase: &Passphrase) -> Result<RootKey, CryptoError> {
        let (argon2, salt) = self.argon2().map_err(|_| CryptoError::KeyDerivation)?;
        // Argon2's working memory is a function of the passphrase, so it is allocated here
        // (fallibly: a refused allocation is an error, not an abort) and wiped afterwards.
        let blocks_needed = argon2.params().block_count();
        let mut blocks: Zeroizing<Vec<argon2::Block>> = Zeroizing::new(Vec::new());
        blocks
            .try_reserve_exact(blocks_needed)
            .map_err(|_| CryptoError::KeyDerivation)?;
        blocks.resize(blocks_needed, argon2::Block::new());
        let mut raw = Zeroizing::new(vec![0u8; KEY_LEN]);
        argon2
            .hash_password_into_with_memory(passphrase.expose(), &salt, &mut raw, &mut blocks[..])
            .map_err(|_| CryptoError::KeyDerivation)?;
        RootKey::from_secret_bytes(SecretBytes::from_zeroizing(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passphrase(text: &str) -> Passphrase {
        Passphrase::new(Zeroizing::new(text.to_string())).unwrap()
    }

    /// RFC 9106's own Argon2id vector uses a secret and associated data, which a root key
    /// derivation never does; this is the reference implementation's vector without them
    /// (phc-winner-argon2, `src/test.c`: Argon2id v=0x13, m=65536, t=2, p=1, "password",
    /// "somesalt"), through the library directly since t=2 at 64 MiB is not our default.
    #[test]
    fn argon2id_matches_the_reference_implementation() {
        let params = argon2::Params::new(65536, 2, 1, Some(32)).unwrap();
        let argon2 =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        argon2
            .hash_password_into(b"password", b"somesalt", &mut out)
            .unwrap();
        assert_eq!(
            hex::encode(out),
            "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"
        );
    }

    #[test]
    fn the_same_passphrase_and_salt_give_the_same_key_and_another_salt_another() {
        let kdf = PassphraseKdf::generate().unwrap();
        let reread = PassphraseKdf::parse(&kdf.to_text()).unwrap();
        assert_eq!(reread, kdf);
        let k1 = kdf.derive(&passphrase("correct horse battery")).unwrap();
        let k2 = reread.derive(&passphrase("correct horse battery")).unwrap();
        let sealed = k1.wrap("label", b"material").unwrap();
        assert_eq!(k2.unwrap("label", &sealed).unwrap().expose(), b"material");
        let other_salt = PassphraseKdf::generate().unwrap();
        assert_ne!(other_salt.salt, kdf.salt);
        let k3 = other_salt
            .derive(&passphrase("correct horse battery"))
            .unwrap();
        assert!(k3.unwrap("label", &sealed).is_err());
        let k4 = kdf.derive(&passphrase("correct horse battery!")).unwrap();
        assert!(k4.unwrap("label", &sealed).is_err());
    }

    #[test]
    fn new_parameters_are_argon2id_1_3_at_owasp_strength_or_more() {
        let kdf = PassphraseKdf::generate().unwrap();
        assert_eq!(kdf.algorithm, KdfAlgorithm::Argon2id);
        assert_eq!(kdf.version, 0x13);
        assert!(kdf.memory_kib >= 19 * 1024 && kdf.iterations >= 2 && kdf.parallelism >= 1);
        assert_eq!(hex::decode(&kdf.salt).unwrap().len(), 16);
        let text = kdf.to_text();
        assert!(text.contains(r#""algorithm":"argon2id""#), "{text}");
    }

    #[test]
    fn stored_parameters_out_of_bounds_are_refused() {
        let good = PassphraseKdf::generate().unwrap();
        let edit = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut json: serde_json::Value = serde_json::from_str(&good.to_text()).unwrap();
            change(&mut json);
            PassphraseKdf::parse(&json.to_string())
        };
        assert!(edit(&|_| {}).is_ok());
        for (field, value) in [
            ("algorithm", serde_json::json!("argon2i")),
            ("version", serde_json::json!(16)),
            ("memory_kib", serde_json::json!(8)),
            ("memory_kib", serde_json::json!(u32::MAX)),
            ("iterations", serde_json::json!(1)),
            ("iterations", serde_json::json!(1_000_000)),
            ("parallelism", serde_json::json!(0)),
            ("parallelism", serde_json::json!(1 << 20)),
            ("salt", serde_json::json!("zz")),
            ("salt", serde_json::json!("00")),
            ("salt", serde_json::json!(-1)),
            ("extra", serde_json::json!(1)),
        ] {
            let result = edit(&|json| json[field] = value.clone());
            assert!(result.is_err(), "{field} = {value} accepted");
        }
        assert!(PassphraseKdf::parse("").is_err());
        assert!(PassphraseKdf::parse("{").is_err());
    }

    #[test]
    fn empty_and_short_passphrases_are_refused_and_none_is_ever_shown() {
        let refused = |text: &str| Passphrase::new(Zeroizing::new(text.to_string())).unwrap_err();
        assert_eq!(refused(""), PassphraseRefused::Empty);
        assert_eq!(refused("   \n"), PassphraseRefused::Empty);
        assert_eq!(refused("eleven char"), PassphraseRefused::TooShort);
        // Characters, not bytes: eleven two-byte characters are still too short.
        assert_eq!(refused(&"é".repeat(11)), PassphraseRefused::TooShort);
        assert!(PassphraseRefused::TooShort.to_string().contains("12"));
        let shown = format!("{:?}", passphrase("twelve chars"));
        assert!(!shown.contains("twelve"), "{shown}");
    }
}
