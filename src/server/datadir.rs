//! The data directory: `root.key` (mode 0600, never in the database) unless the root key is
//! kept elsewhere or derived from a passphrase ([`RootKeySource`]; then `root.kdf` holds the
//! passphrase's salt and cost), `strongbox.db`, and on first start an admin access key written
//! once to `credentials` as an AWS credentials file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::{Passphrase, PassphraseKdf, RootKey, random_string};
use crate::store::{AccessKeyRecord, SqliteStore, Store};

/// The root key file's name inside the data directory.
pub const ROOT_KEY_FILE: &str = "root.key";
/// The name, inside a data directory whose root key comes from a passphrase, of the file that
/// holds the passphrase's Argon2id salt and cost (JSON, not secret).
///
/// A file beside `root.key` rather than a row in the database's `meta` table: the key is
/// needed before the database is opened (and `audit verify` never opens it), the file is
/// written under the same initialisation lock and before the database, like `root.key`, and
/// its presence alone says, before anything else is read, that the directory wants a
/// passphrase, so every other source is refused by name. A copy of the data directory carries
/// it; a copy of `strongbox.db` alone does not (nor `audit.db`): back up the directory.
pub const ROOT_KDF_FILE: &str = "root.kdf";
/// The environment variable that holds the passphrase itself; never a flag, so that it shows
/// neither in `ps` nor in `--help`.
pub const ROOT_PASSPHRASE_ENV: &str = "STRONGBOX_ROOT_PASSPHRASE";
/// The longest passphrase file read: a passphrase is a line, and a larger file is most likely
/// the wrong one.
const MAX_PASSPHRASE_FILE_BYTES: u64 = 64 * 1024;
/// The generated admin credentials file's name inside the data directory.
pub const CREDENTIALS_FILE: &str = "credentials";
/// The SQLite database's name inside the data directory.
pub const DATABASE_FILE: &str = "strongbox.db";
/// The profile name in the credentials file.
pub const PROFILE: &str = "strongbox";

/// An opened data directory.
pub struct DataDir {
    /// Its path.
    pub path: PathBuf,
    /// The store inside it.
    pub store: Arc<dyn Store>,
    /// The account created on first start (the bootstrap admin is its root).
    pub account_id: String,
}

impl std::fmt::Debug for DataDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataDir")
            .field("path", &self.path)
            .field("account_id", &self.account_id)
            .finish()
    }
}

fn random_from(alphabet: &[u8], n: usize) -> std::io::Result<String> {
    random_string(alphabet, n).map_err(std::io::Error::other)
}

use crate::iam::access_key_label;

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Reads a root key file; when it is missing and `create` is set, creates it (mode 0600,
/// fsynced) with a fresh key. The file's text is wiped once parsed.
fn read_root_key_file(path: &Path, create: bool) -> std::io::Result<RootKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => RootKey::from_hex(zeroize::Zeroizing::new(text).trim()),
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = RootKey::generate().map_err(std::io::Error::other)?;
            write_private_file(path, &format!("{}\n", text.as_str()))?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// Where the root key comes from.
///
/// By default it is `root.key` inside the data directory, created there on first start. A
/// platform team that backs the data directory up, or ships it to another machine, keeps the
/// key elsewhere so that no secret value can be decrypted from a copy of the directory: a key
/// file at another path (created there on first start), the key itself from the environment,
/// in which case it is never written anywhere, or a passphrase, stretched into the key with
/// Argon2id (only its salt and cost are written, to `root.kdf`).
#[derive(Clone)]
pub enum RootKeySource {
    /// `root.key` in the data directory.
    InDataDir,
    /// A key file elsewhere (`--root-key-file`), created with mode 0600 on first start.
    File(PathBuf),
    /// 64 hex characters (`STRONGBOX_ROOT_KEY`); nothing is written.
    Hex(zeroize::Zeroizing<String>),
    /// A passphrase, from `STRONGBOX_ROOT_PASSPHRASE` or read from a file
    /// (`--root-passphrase-file`); the key is derived from it and written nowhere.
    Passphrase {
        /// The passphrase, already read and checked.
        passphrase: Passphrase,
        /// The file it was read from; `None` when it came from `STRONGBOX_ROOT_PASSPHRASE`.
        file: Option<PathBuf>,
    },
}

impl std::fmt::Debug for RootKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InDataDir => f.write_str("InDataDir"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Hex(_) => f.write_str("Hex(<redacted>)"),
            Self::Passphrase { file, .. } => f
                .debug_struct("Passphrase")
                .field("passphrase", &"<redacted>")
                .field("file", file)
                .finish(),
        }
    }
}

/// What a command line gave for the root key, before it is checked and combined.
#[derive(Default)]
struct RootKeyGiven {
    /// `STRONGBOX_ROOT_KEY`.
    key: Option<zeroize::Zeroizing<String>>,
    /// `--root-key-file`.
    key_file: Option<PathBuf>,
    /// `STRONGBOX_ROOT_PASSPHRASE`.
    passphrase: Option<zeroize::Zeroizing<String>>,
    /// `--root-passphrase-file`.
    passphrase_file: Option<PathBuf>,
}

/// Reads a secret from the environment variable `name`. Set but empty
/// (`STRONGBOX_ROOT_KEY=$(cat missing-file)`) is an error, not "unset": falling back would
/// create a new key. A value that is not Unicode is wiped and refused with `not_unicode`.
fn secret_from_env(
    name: &str,
    not_unicode: &str,
) -> Result<Option<zeroize::Zeroizing<String>>, String> {
    let Some(raw) = std::env::var_os(name) else {
        return Ok(None);
    };
    match raw.into_string() {
        Ok(text) => {
            let text = zeroize::Zeroizing::new(text);
            if text.trim().is_empty() {
                return Err(format!("{name} is set but empty"));
            }
            Ok(Some(text))
        }
        Err(raw) => {
            drop(zeroize::Zeroizing::new(raw.into_encoded_bytes()));
            Err(format!("{name} {not_unicode}"))
        }
    }
}

/// Reads a passphrase file: its content with one trailing newline (`\n` or `\r\n`) removed,
/// as `echo` or an editor leaves it in a Docker or Kubernetes secret. Every buffer is wiped.
fn read_passphrase_file(path: &Path) -> Result<zeroize::Zeroizing<String>, String> {
    use std::io::Read;
    let shown = format!("passphrase file {}", path.display());
    let mut file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    // One zeroed buffer, filled in place: no reallocation and no intermediate stack buffer
    // (as `read_to_end` uses for short reads) leaves an unwiped copy behind, whatever size the
    // file reports (a FIFO or a /proc file reports none).
    let limit = usize::try_from(MAX_PASSPHRASE_FILE_BYTES).unwrap_or(64 * 1024);
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; limit + 1]);
    let mut filled = 0;
    while filled < bytes.len() {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    }
    // Shrinking the length keeps the allocation, which the Zeroizing wrapper wipes whole.
    bytes.truncate(filled);
    if bytes.len() as u64 > MAX_PASSPHRASE_FILE_BYTES {
        return Err(format!(
            "{shown}: larger than {MAX_PASSPHRASE_FILE_BYTES} bytes; is it the right file?"
        ));
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(zeroize::Zeroizing::new(text)),
        Err(e) => {
            drop(zeroize::Zeroizing::new(e.into_bytes()));
            Err(format!("{shown}: not UTF-8"))
        }
    }
}

impl RootKeySource {
    /// The source a command line asks for: `STRONGBOX_ROOT_KEY` (the key, 64 hex characters),
    /// `key_file` (`--root-key-file`), `STRONGBOX_ROOT_PASSPHRASE` or `passphrase_file`
    /// (`--root-passphrase-file`), else the data directory's `root.key`. Two at once are
    /// refused rather than one silently winning.
    pub fn from_command_line(
        key_file: Option<PathBuf>,
        passphrase_file: Option<PathBuf>,
    ) -> Result<Self, String> {
        Self::from_given(RootKeyGiven {
            key: secret_from_env("STRONGBOX_ROOT_KEY", "is not 64 hex characters")?,
            key_file,
            passphrase: secret_from_env(ROOT_PASSPHRASE_ENV, "is not UTF-8")?,
            passphrase_file,
        })
    }

    /// Combines what was given into one source, refusing two at once and a passphrase that is
    /// empty or too short.
    fn from_given(given: RootKeyGiven) -> Result<Self, String> {
        let named = [
            ("STRONGBOX_ROOT_KEY", given.key.is_some()),
            ("--root-key-file", given.key_file.is_some()),
            (ROOT_PASSPHRASE_ENV, given.passphrase.is_some()),
            ("--root-passphrase-file", given.passphrase_file.is_some()),
        ];
        let present: Vec<&str> = named
            .iter()
            .filter(|(_, given)| *given)
            .map(|(name, _)| *name)
            .collect();
        if let [first, second, ..] = present[..] {
            return Err(format!(
                "give the root key one way only, not both {first} and {second}{}",
                if present.len() > 2 { " (and more)" } else { "" }
            ));
        }
        let passphrase = |text, file: Option<PathBuf>| {
            let named = match &file {
                Some(path) => format!("the passphrase in {}", path.display()),
                None => ROOT_PASSPHRASE_ENV.to_string(),
            };
            Passphrase::new(text)
                .map(|passphrase| Self::Passphrase { passphrase, file })
                .map_err(|refused| format!("{named} {refused}"))
        };
        if let Some(hex) = given.key {
            Ok(Self::Hex(hex))
        } else if let Some(path) = given.key_file {
            Ok(Self::File(path))
        } else if let Some(text) = given.passphrase {
            passphrase(text, None)
        } else if let Some(path) = given.passphrase_file {
            passphrase(read_passphrase_file(&path)?, Some(path))
        } else {
            Ok(Self::InDataDir)
        }
    }

    /// Where the key came from, for messages.
    fn describe(&self, data_dir: &Path) -> String {
        match self {
            Self::InDataDir => data_dir.join(ROOT_KEY_FILE).display().to_string(),
            Self::File(path) => path.display().to_string(),
            Self::Hex(_) => "STRONGBOX_ROOT_KEY".into(),
            Self::Passphrase { file: None, .. } => ROOT_PASSPHRASE_ENV.into(),
            Self::Passphrase {
                file: Some(path), ..
            } => path.display().to_string(),
        }
    }

    /// The message that refuses this key (or passphrase) for `data_dir`, whose key check it
    /// does not open.
    fn refusal(&self, data_dir: &Path) -> String {
        let source = self.describe(data_dir);
        let data_dir = data_dir.display();
        match self {
            Self::Passphrase { file, .. } => format!(
                "the passphrase {} {source} does not open data directory {data_dir} (it was \
                 initialised with another passphrase)",
                if file.is_some() { "in" } else { "from" }
            ),
            _ => format!(
                "the root key from {source} does not open data directory {data_dir} (it was \
                 initialised with another; see --root-key-file and STRONGBOX_ROOT_KEY)"
            ),
        }
    }

    /// Loads the key, creating its file where it has one and the data directory is new.
    pub fn load(&self, data_dir: &Path) -> std::io::Result<RootKey> {
        self.load_or_create(data_dir, true)
    }

    /// Loads the key without ever creating one (for commands that only read a directory).
    pub fn load_existing(&self, data_dir: &Path) -> std::io::Result<RootKey> {
        self.load_or_create(data_dir, false)
    }

    fn load_or_create(&self, data_dir: &Path, create: bool) -> std::io::Result<RootKey> {
        let hint = self.describe(data_dir);
        // A key would not open what a passphrase's key sealed: say what the directory wants
        // rather than let the key check refuse it, or create a key file beside it.
        if !matches!(self, Self::Passphrase { .. }) && data_dir.join(ROOT_KDF_FILE).try_exists()? {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "data directory {} was initialised with a passphrase, not a root key: give \
                     the passphrase in {ROOT_PASSPHRASE_ENV} or with --root-passphrase-file",
                    data_dir.display()
                ),
            ));
        }
        let path = match self {
            Self::Passphrase { passphrase, .. } => {
                let kdf = passphrase_kdf(data_dir, create)?;
                return kdf
                    .derive(passphrase)
                    .map_err(|e| std::io::Error::other(format!("{hint}: {e}")));
            }
            Self::Hex(text) => {
                return RootKey::from_hex(text.trim())
                    .map_err(|e| std::io::Error::new(e.kind(), format!("{hint}: {e}")));
            }
            Self::File(path) => path.clone(),
            Self::InDataDir => data_dir.join(ROOT_KEY_FILE),
        };
        if create && !path.try_exists()? && data_dir.join(DATABASE_FILE).try_exists()? {
            // A new key cannot open what an earlier one sealed: say so instead of making one.
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "no root key at {hint}, and data directory {} is already initialised: give \
                     the key it was made with (--root-key-file or STRONGBOX_ROOT_KEY)",
                    data_dir.display()
                ),
            ));
        }
        read_root_key_file(&path, create).map_err(|e| {
            let advice = if !create && e.kind() == std::io::ErrorKind::NotFound {
                " (a key kept elsewhere is given with --root-key-file or STRONGBOX_ROOT_KEY)"
            } else {
                ""
            };
            std::io::Error::new(e.kind(), format!("{hint}: {e}{advice}"))
        })
    }
}

/// The Argon2id parameters of `data_dir` (its `root.kdf`); when it has none, is new and
/// `create` is set, fresh ones, written there before the database exists. A directory that
/// already holds a database or `root.key` without them was made with a root key, and is
/// refused rather than given a passphrase's key.
fn passphrase_kdf(data_dir: &Path, create: bool) -> std::io::Result<PassphraseKdf> {
    let path = data_dir.join(ROOT_KDF_FILE);
    let shown = path.display();
    match std::fs::read_to_string(&path) {
        Ok(text) => PassphraseKdf::parse(&text).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{shown}: {e}"))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if data_dir.join(DATABASE_FILE).try_exists()?
                || data_dir.join(ROOT_KEY_FILE).try_exists()?
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "data directory {} was initialised with a root key, not a passphrase \
                         (it has no {ROOT_KDF_FILE}): open it with its key (its {ROOT_KEY_FILE}, \
                         --root-key-file or STRONGBOX_ROOT_KEY)",
                        data_dir.display()
                    ),
                ));
            }
            if !create {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "data directory {} is not initialised (no {ROOT_KDF_FILE})",
                        data_dir.display()
                    ),
                ));
            }
            let kdf = PassphraseKdf::generate().map_err(std::io::Error::other)?;
            write_private_file(&path, &format!("{}\n", kdf.to_text()))
                .map_err(|e| std::io::Error::new(e.kind(), format!("{shown}: {e}")))?;
            Ok(kdf)
        }
        Err(e) => Err(std::io::Error::new(e.kind(), format!("{shown}: {e}"))),
    }
}

/// Label of the value that proves a root key is the data directory's own.
const ROOT_KEY_CHECK_LABEL: &str = "strongbox:root-key-check";
/// Where that value is kept (`meta`).
const ROOT_KEY_CHECK: &str = "root_key_check";

/// The file locked while a process initialises or opens the data directory.
const INIT_LOCK_FILE: &str = "init.lock";

/// Takes the data directory's initialisation lock, waiting for another process that holds it
/// (its initialisation is short). The lock (`flock`) goes with the returned file.
async fn lock_for_init(dir: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(INIT_LOCK_FILE))?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(std::io::Error::other)?
}

/// Refuses a root key that is not the one the data directory was made with: everything sealed
/// under it would fail to open, and whatever is sealed from now on would be sealed under the
/// wrong key. A new directory keeps a value sealed under its key. A directory from before that
/// value existed is checked against its access keys, sealed under the same key; it is given
/// the value only once a key has passed that check, so a wrong key is never recorded as right.
/// `refusal` is the message that refuses the key, naming where it came from.
async fn check_root_key(
    store: &dyn Store,
    root: &RootKey,
    refusal: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let wrong = || refusal.to_string();
    let opens = |sealed_hex: &str| {
        hex::decode(sealed_hex)
            .ok()
            .is_some_and(|sealed| root.unwrap(ROOT_KEY_CHECK_LABEL, &sealed).is_ok())
    };
    if let Some(stored) = store.meta_get(ROOT_KEY_CHECK).await? {
        return if opens(&stored) {
            Ok(())
        } else {
            Err(wrong().into())
        };
    }
    if store.meta_get("admin_key").await?.is_some() {
        let keys = store.access_keys().await?;
        if keys.is_empty() {
            // Nothing here to tell a right key from a wrong one; the audit log's signing key
            // still refuses a wrong one when `serve` opens it.
            return Ok(());
        }
        let any_opens = keys.iter().any(|k| {
            root.unwrap(&access_key_label(&k.access_key_id), &k.sealed_secret)
                .is_ok()
        });
        if !any_opens {
            return Err(wrong().into());
        }
    }
    let sealed = root
        .wrap(ROOT_KEY_CHECK_LABEL, b"strongbox")
        .map_err(|e| e.to_string())?;
    // Another process may have stored its own at the same moment: check what was kept.
    let stored = store
        .meta_init(ROOT_KEY_CHECK, &hex::encode(sealed))
        .await?;
    if opens(&stored) {
        Ok(())
    } else {
        Err(wrong().into())
    }
}

impl DataDir {
    /// Opens `path`, initialising it on first start. Returns the root key beside the directory:
    /// the caller hands it to the keyring, and it is kept nowhere else.
    pub async fn open(
        path: &Path,
        account_id: Option<&str>,
        root_key_source: &RootKeySource,
        clock: &dyn Clock,
    ) -> Result<(Self, RootKey), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(id) = account_id
            && (id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("--account-id must be 12 digits, not '{id}'").into());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(path)?;
        // Two processes opening a new directory at once would both create the root key and
        // both run the first migrations: initialisation runs under a lock, one at a time.
        let _init = lock_for_init(path).await?;
        // A passphrase takes a fraction of a second of CPU to stretch: off the async workers.
        let root_key = {
            let (source, path) = (root_key_source.clone(), path.to_path_buf());
            tokio::task::spawn_blocking(move || source.load(&path))
                .await
                .map_err(std::io::Error::other)??
        };
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path.join(DATABASE_FILE))?);
        check_root_key(store.as_ref(), &root_key, &root_key_source.refusal(path)).await?;
        let proposed = match account_id {
            Some(id) => id.to_string(),
            None => random_from(b"0123456789", 12)?,
        };
        let account = store.meta_init("account_id", &proposed).await?;
        if let Some(given) = account_id
            && given != account
        {
            return Err(format!(
                "data directory {} belongs to account {account}, not {given}",
                path.display()
            )
            .into());
        }
        let dir = Self {
            path: path.to_path_buf(),
            store,
            account_id: account,
        };
        dir.ensure_admin_key(&root_key, clock).await?;
        Ok((dir, root_key))
    }

    /// Creates the admin access key and writes the credentials file, once.
    async fn ensure_admin_key(
        &self,
        root: &RootKey,
        clock: &dyn Clock,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let credentials_path = self.path.join(CREDENTIALS_FILE);
        if self.store.meta_get("admin_key").await?.is_some() {
            return Ok(());
        }
        let (id, secret) = crate::auth::generate_key_pair("AKIA").map_err(std::io::Error::other)?;
        let sealed = root
            .wrap(&access_key_label(&id), secret.expose().as_bytes())
            .map_err(|e| e.to_string())?;
        self.store
            .insert_access_key(AccessKeyRecord {
                access_key_id: id.clone(),
                account_id: self.account_id.clone(),
                principal_arn: format!("arn:aws:iam::{}:root", self.account_id),
                sealed_secret: sealed,
                active: true,
                created_ms: clock.now_millis(),
            })
            .await?;
        let contents = zeroize::Zeroizing::new(format!(
            "# Strongbox admin credentials for account {}. Written once; keep it private.\n\
             [{PROFILE}]\naws_access_key_id = {id}\naws_secret_access_key = {}\n",
            self.account_id,
            secret.expose()
        ));
        write_private_file(&credentials_path, &contents)?;
        self.store.meta_init("admin_key", &id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ROOT_KEY_FILE);
        let k1 = read_root_key_file(&path, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let k2 = read_root_key_file(&path, true).unwrap();
        let sealed = k1.wrap("label", b"material").unwrap();
        assert_eq!(k2.unwrap("label", &sealed).unwrap().expose(), b"material");
    }

    async fn open_with(
        dir: &Path,
        source: &RootKeySource,
    ) -> Result<DataDir, Box<dyn std::error::Error + Send + Sync>> {
        let clock = crate::clock::ManualClock::new(1_700_000_000_000);
        DataDir::open(dir, None, source, &clock)
            .await
            .map(|(d, _)| d)
    }

    fn hex_key(byte: char) -> RootKeySource {
        RootKeySource::Hex(zeroize::Zeroizing::new(byte.to_string().repeat(64)))
    }

    #[tokio::test]
    async fn a_key_file_outside_the_directory_is_created_there_and_required_after() {
        let keys = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("d");
        let outside = RootKeySource::File(keys.path().join("strongbox.key"));
        open_with(&dir, &outside).await.unwrap();
        assert!(keys.path().join("strongbox.key").exists());
        assert!(
            !dir.join(ROOT_KEY_FILE).exists(),
            "no key in the data directory"
        );
        open_with(&dir, &outside).await.unwrap();
        // Without the key, the initialised directory is refused and no new key is made.
        let err = open_with(&dir, &RootKeySource::InDataDir)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("already initialised"), "{err}");
        assert!(!dir.join(ROOT_KEY_FILE).exists());
    }

    #[tokio::test]
    async fn a_key_from_the_environment_is_never_written_and_a_wrong_one_is_refused() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("d");
        open_with(&dir, &hex_key('a')).await.unwrap();
        open_with(&dir, &hex_key('a')).await.unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!names.iter().any(|n| n.contains("key")), "{names:?}");
        let err = open_with(&dir, &hex_key('b'))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not open data directory"), "{err}");
        let err = open_with(&dir, &RootKeySource::Hex("not hex".to_string().into()))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("STRONGBOX_ROOT_KEY"), "{err}");
    }

    #[tokio::test]
    async fn a_directory_from_before_the_key_check_is_checked_by_its_admin_key() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("d");
        open_with(&dir, &hex_key('a')).await.unwrap();
        let forget_check = || {
            rusqlite::Connection::open(dir.join(DATABASE_FILE))
                .unwrap()
                .execute("DELETE FROM meta WHERE key = ?1", [ROOT_KEY_CHECK])
                .unwrap()
        };
        assert_eq!(forget_check(), 1);
        let err = open_with(&dir, &hex_key('b'))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not open data directory"), "{err}");
        // The right key passes, and leaves the check behind for next time.
        open_with(&dir, &hex_key('a')).await.unwrap();
        assert_eq!(forget_check(), 1);
        // With no access key left to check against, no key is recorded as the right one.
        rusqlite::Connection::open(dir.join(DATABASE_FILE))
            .unwrap()
            .execute("DELETE FROM access_keys", [])
            .unwrap();
        open_with(&dir, &hex_key('b')).await.unwrap();
        assert_eq!(forget_check(), 0, "the unchecked key was not recorded");
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let shown = format!("{:?}", hex_key('c'));
        assert!(!shown.contains("ccc"), "{shown}");
        let shown = format!("{:?}", passphrase(PASSPHRASE));
        assert!(!shown.contains("horse"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }

    const PASSPHRASE: &str = "correct horse battery staple";

    fn passphrase(text: &str) -> RootKeySource {
        RootKeySource::Passphrase {
            passphrase: Passphrase::new(zeroize::Zeroizing::new(text.to_string())).unwrap(),
            file: None,
        }
    }

    /// Every regular file under `dir`, recursively.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    stack.push(entry.path());
                } else {
                    out.push(entry.path());
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn a_passphrase_opens_the_directory_it_made_and_is_written_nowhere() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("d");
        open_with(&dir, &passphrase(PASSPHRASE)).await.unwrap();
        assert!(dir.join(ROOT_KDF_FILE).exists());
        assert!(!dir.join(ROOT_KEY_FILE).exists(), "no key file was made");
        open_with(&dir, &passphrase(PASSPHRASE)).await.unwrap();
        // Commands that only read the directory derive the same key.
        let key = passphrase(PASSPHRASE).load_existing(&dir).unwrap();
        let store = SqliteStore::open(&dir.join(DATABASE_FILE)).unwrap();
        check_root_key(&store, &key, "refused").await.unwrap();
        for file in files_under(&dir) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes
                    .windows(PASSPHRASE.len())
                    .any(|w| w == PASSPHRASE.as_bytes()),
                "the passphrase is in {}",
                file.display()
            );
        }
    }

    #[tokio::test]
    async fn a_wrong_passphrase_or_an_edited_salt_is_refused() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("d");
        open_with(&dir, &passphrase(PASSPHRASE)).await.unwrap();
        let err = open_with(&dir, &passphrase("correct horse battery stapler"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "the passphrase from STRONGBOX_ROOT_PASSPHRASE does not open data directory"
            ),
            "{err}"
        );
        // Another salt stretches the right passphrase into another key.
        let kdf_path = dir.join(ROOT_KDF_FILE);
        let text = std::fs::read_to_string(&kdf_path).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["salt"] = "00".repeat(16).into();
        std::fs::write(&kdf_path, json.to_string()).unwrap();
        let err = open_with(&dir, &passphrase(PASSPHRASE))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not open data directory"), "{err}");
        // Parameters edited below the minimum are refused before any derivation.
        json["memory_kib"] = 8.into();
        std::fs::write(&kdf_path, json.to_string()).unwrap();
        let err = open_with(&dir, &passphrase(PASSPHRASE))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("memory_kib"), "{err}");
    }

    #[tokio::test]
    async fn a_passphrase_never_opens_a_key_directory_nor_a_key_a_passphrase_directory() {
        let data = tempfile::tempdir().unwrap();
        // Directories made with root.key and with STRONGBOX_ROOT_KEY refuse a passphrase, and
        // are given no passphrase parameters.
        for (name, made_with) in [("in-dir", RootKeySource::InDataDir), ("hex", hex_key('a'))] {
            let dir = data.path().join(name);
            open_with(&dir, &made_with).await.unwrap();
            let err = open_with(&dir, &passphrase(PASSPHRASE))
                .await
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("was initialised with a root key, not a passphrase"),
                "{name}: {err}"
            );
            let err = passphrase(PASSPHRASE)
                .load_existing(&dir)
                .unwrap_err()
                .to_string();
            assert!(err.contains("not a passphrase"), "{name}: {err}");
            assert!(!dir.join(ROOT_KDF_FILE).exists(), "{name}");
            open_with(&dir, &made_with).await.unwrap();
        }
        // A passphrase directory refuses every kind of key, and is given no key file.
        let dir = data.path().join("passphrase");
        open_with(&dir, &passphrase(PASSPHRASE)).await.unwrap();
        let outside = data.path().join("outside.key");
        for key in [
            RootKeySource::InDataDir,
            RootKeySource::File(outside.clone()),
            hex_key('a'),
        ] {
            let err = open_with(&dir, &key).await.unwrap_err().to_string();
            assert!(
                err.contains("was initialised with a passphrase, not a root key"),
                "{key:?}: {err}"
            );
            assert!(err.contains("STRONGBOX_ROOT_PASSPHRASE"), "{err}");
            let err = key.load_existing(&dir).unwrap_err().to_string();
            assert!(err.contains("with a passphrase"), "{key:?}: {err}");
        }
        assert!(!dir.join(ROOT_KEY_FILE).exists());
        assert!(!outside.exists());
        open_with(&dir, &passphrase(PASSPHRASE)).await.unwrap();
    }

    fn given_passphrase_file(content: &[u8]) -> Result<RootKeySource, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passphrase");
        std::fs::write(&path, content).unwrap();
        RootKeySource::from_given(RootKeyGiven {
            passphrase_file: Some(path),
            ..RootKeyGiven::default()
        })
    }

    #[test]
    fn one_source_at_a_time_and_a_passphrase_of_at_least_twelve_characters() {
        let text = |t: &str| Some(zeroize::Zeroizing::new(t.to_string()));
        let path = || Some(PathBuf::from("/nonexistent/strongbox-test"));
        for given in [
            RootKeyGiven {
                key: text(&"a".repeat(64)),
                passphrase: text(PASSPHRASE),
                ..RootKeyGiven::default()
            },
            RootKeyGiven {
                key_file: path(),
                passphrase_file: path(),
                ..RootKeyGiven::default()
            },
            RootKeyGiven {
                passphrase: text(PASSPHRASE),
                passphrase_file: path(),
                ..RootKeyGiven::default()
            },
        ] {
            let err = RootKeySource::from_given(given).unwrap_err();
            assert!(err.contains("give the root key one way only"), "{err}");
            assert!(!err.contains("horse"), "{err}");
        }
        let err = RootKeySource::from_given(RootKeyGiven {
            passphrase: text("short pass"),
            ..RootKeyGiven::default()
        })
        .unwrap_err();
        assert!(
            err.starts_with("STRONGBOX_ROOT_PASSPHRASE is too short") && err.contains("12"),
            "{err}"
        );
        assert!(!err.contains("short pass"), "{err}");
        assert!(matches!(
            RootKeySource::from_given(RootKeyGiven::default()),
            Ok(RootKeySource::InDataDir)
        ));
    }

    #[test]
    fn a_passphrase_file_loses_one_trailing_newline_and_nothing_else() {
        let read = |content: &[u8]| match given_passphrase_file(content) {
            Ok(RootKeySource::Passphrase {
                passphrase,
                file: Some(_),
            }) => passphrase,
            other => panic!("{other:?}"),
        };
        let kdf = PassphraseKdf::generate().unwrap();
        let sealed = kdf
            .derive(&read(format!("{PASSPHRASE}\n").as_bytes()))
            .unwrap()
            .wrap("label", b"x")
            .unwrap();
        for same in [PASSPHRASE.to_string(), format!("{PASSPHRASE}\r\n")] {
            let key = kdf.derive(&read(same.as_bytes())).unwrap();
            assert!(key.unwrap("label", &sealed).is_ok(), "{same:?}");
        }
        // Only one newline goes: a second one is part of the passphrase.
        let key = kdf
            .derive(&read(format!("{PASSPHRASE}\n\n").as_bytes()))
            .unwrap();
        assert!(key.unwrap("label", &sealed).is_err());

        for (content, expected) in [
            (&b""[..], "is empty"),
            (b"\n", "is empty"),
            (b"eleven char\n", "at least 12 characters"),
            (b"\xff\xfe not unicode at all", "not UTF-8"),
        ] {
            let err = given_passphrase_file(content).unwrap_err();
            assert!(err.contains(expected), "{content:?}: {err}");
        }
        let err = RootKeySource::from_given(RootKeyGiven {
            passphrase_file: Some(PathBuf::from("/nonexistent/strongbox-passphrase")),
            ..RootKeyGiven::default()
        })
        .unwrap_err();
        assert!(err.contains("/nonexistent/strongbox-passphrase"), "{err}");
    }
}
