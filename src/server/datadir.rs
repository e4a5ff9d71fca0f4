//! The data directory: `root.key` (mode 0600, never in the database) unless the root key is
//! kept elsewhere ([`RootKeySource`]), `strongbox.db`, and on first start an admin access key
//! written once to `credentials` as an AWS credentials file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::{RootKey, random_string};
use crate::store::{AccessKeyRecord, SqliteStore, Store};

/// The root key file's name inside the data directory.
pub const ROOT_KEY_FILE: &str = "root.key";
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
/// file at another path (created there on first start), or the key itself from the
/// environment, in which case it is never written anywhere.
#[derive(Clone)]
pub enum RootKeySource {
    /// `root.key` in the data directory.
    InDataDir,
    /// A key file elsewhere (`--root-key-file`), created with mode 0600 on first start.
    File(PathBuf),
    /// 64 hex characters (`STRONGBOX_ROOT_KEY`); nothing is written.
    Hex(zeroize::Zeroizing<String>),
}

impl std::fmt::Debug for RootKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InDataDir => f.write_str("InDataDir"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Hex(_) => f.write_str("Hex(<redacted>)"),
        }
    }
}

impl RootKeySource {
    /// The source a command line asks for: `STRONGBOX_ROOT_KEY` (the key, 64 hex characters),
    /// else `file` (`--root-key-file`), else the data directory's `root.key`. Both at once is
    /// refused rather than one silently winning.
    pub fn from_command_line(file: Option<PathBuf>) -> Result<Self, String> {
        // Set but empty (`STRONGBOX_ROOT_KEY=$(cat missing-file)`) is an error, not "unset":
        // falling back would write a new key into the data directory.
        let from_env = match std::env::var_os("STRONGBOX_ROOT_KEY") {
            None => None,
            Some(raw) => match raw.into_string() {
                Ok(text) => {
                    let text = zeroize::Zeroizing::new(text);
                    if text.trim().is_empty() {
                        return Err("STRONGBOX_ROOT_KEY is set but empty".into());
                    }
                    Some(text)
                }
                Err(raw) => {
                    drop(zeroize::Zeroizing::new(raw.into_encoded_bytes()));
                    return Err("STRONGBOX_ROOT_KEY is not 64 hex characters".into());
                }
            },
        };
        match (from_env, file) {
            (Some(_), Some(_)) => Err(
                "give the root key either in STRONGBOX_ROOT_KEY or with --root-key-file, not both"
                    .into(),
            ),
            (Some(hex), None) => Ok(Self::Hex(hex)),
            (None, Some(path)) => Ok(Self::File(path)),
            (None, None) => Ok(Self::InDataDir),
        }
    }

    /// Where the key came from, for messages.
    fn describe(&self, data_dir: &Path) -> String {
        match self {
            Self::InDataDir => data_dir.join(ROOT_KEY_FILE).display().to_string(),
            Self::File(path) => path.display().to_string(),
            Self::Hex(_) => "STRONGBOX_ROOT_KEY".into(),
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
        let path = match self {
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
async fn check_root_key(
    store: &dyn Store,
    root: &RootKey,
    source: &str,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let wrong = || {
        format!(
            "the root key from {source} does not open data directory {} (it was initialised \
             with another; see --root-key-file and STRONGBOX_ROOT_KEY)",
            path.display()
        )
    };
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
        let root_key = root_key_source.load(path)?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path.join(DATABASE_FILE))?);
        check_root_key(
            store.as_ref(),
            &root_key,
            &root_key_source.describe(path),
            path,
        )
        .await?;
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
    }
}
