//! The data directory: `root.key` (mode 0600, never in the database), `strongbox.db`, and on
//! first start an admin access key written once to `credentials` as an AWS credentials file.

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

/// Loads the root key file, creating it (mode 0600, fsynced) with a fresh key on first start.
fn load_or_create_root_key(path: &Path) -> std::io::Result<RootKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => RootKey::from_hex(text.trim()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = RootKey::generate().map_err(std::io::Error::other)?;
            write_private_file(path, &format!("{}\n", text.as_str()))?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

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

impl DataDir {
    /// Opens `path`, initialising it on first start. Returns the root key beside the directory:
    /// the caller hands it to the keyring, and it is kept nowhere else.
    pub async fn open(
        path: &Path,
        account_id: Option<&str>,
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
        let root_key = load_or_create_root_key(&path.join(ROOT_KEY_FILE))?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path.join(DATABASE_FILE))?);
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
        let k1 = load_or_create_root_key(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let k2 = load_or_create_root_key(&path).unwrap();
        let sealed = k1.wrap("label", b"material").unwrap();
        assert_eq!(k2.unwrap("label", &sealed).unwrap().expose(), b"material");
    }
}
