//! Encryption at rest and durability, checked on the files a stopped server leaves behind:
//! no plaintext value (raw, base64 or hex) in any file of the data directory, the root key only
//! in `root.key` (mode 0600) or nowhere at all (from the environment or a passphrase), data and
//! labels surviving a restart, and a sealed value copied onto another secret or version failing
//! to open.

mod common;

use std::path::{Path, PathBuf};

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::primitives::Blob;
use base64::Engine;
use common::{TestServer, unique};
use strongbox::server::{CREDENTIALS_FILE, ROOT_KEY_FILE};

const DATABASE_FILE: &str = "strongbox.db";

/// Every regular file under `dir`, recursively.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    assert!(!needle.is_empty());
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The bytes of the database and its WAL and shared-memory files, concatenated.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for f in files_in(dir) {
        if file_name(&f).starts_with(DATABASE_FILE) {
            all.extend(std::fs::read(&f).unwrap());
        }
    }
    all
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Reads the generated admin key pair from the credentials file.
fn admin_credentials(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(dir.join(CREDENTIALS_FILE)).unwrap();
    let field = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("{key} missing from the credentials file"))
    };
    (field("aws_access_key_id"), field("aws_secret_access_key"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_in_any_file_of_the_data_directory() {
    let server = TestServer::start().await;
    let client = server.client();
    let string_marker = format!("PLAINTEXT-STRING-MARKER-{}", uuid::Uuid::new_v4().simple());
    let json_password = format!("PW-{}", uuid::Uuid::new_v4().simple());
    let json_value = format!("{{\"username\":\"admin\",\"password\":\"{json_password}\"}}");
    let updated_marker = format!("UPDATED-MARKER-{}", uuid::Uuid::new_v4().simple());
    let binary_marker = strongbox::crypto::random_bytes(64).unwrap();
    let harmless = "a harmless description that is stored in the clear";

    let text_name = unique("at-rest-text");
    client
        .create_secret()
        .name(&text_name)
        .description(harmless)
        .secret_string(&string_marker)
        .send()
        .await
        .unwrap();
    client
        .put_secret_value()
        .secret_id(&text_name)
        .secret_string(&json_value)
        .send()
        .await
        .unwrap();
    client
        .update_secret()
        .secret_id(&text_name)
        .secret_string(&updated_marker)
        .send()
        .await
        .unwrap();
    let binary_name = unique("at-rest-binary");
    client
        .create_secret()
        .name(&binary_name)
        .secret_binary(Blob::new(binary_marker.clone()))
        .send()
        .await
        .unwrap();
    // Read everything back (reads write access dates), and check the values round-trip.
    let got = client
        .get_secret_value()
        .secret_id(&text_name)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(updated_marker.as_str()));
    let got = client
        .get_secret_value()
        .secret_id(&text_name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(json_value.as_str()));
    let got = client
        .get_secret_value()
        .secret_id(&binary_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.secret_binary().map(|b| b.as_ref().to_vec()),
        Some(binary_marker.clone())
    );

    let dir = server.stop().await;
    let files = files_in(dir.path());
    let names: Vec<String> = files.iter().map(|f| file_name(f)).collect();
    for expected in [DATABASE_FILE, ROOT_KEY_FILE, CREDENTIALS_FILE] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }

    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("string value", string_marker.as_bytes().to_vec()),
        ("json password", json_password.as_bytes().to_vec()),
        ("updated value", updated_marker.as_bytes().to_vec()),
        ("binary value", binary_marker.clone()),
        ("binary value, first 16 bytes", binary_marker[..16].to_vec()),
        ("binary value, last 16 bytes", binary_marker[48..].to_vec()),
        (
            "binary value as base64",
            b64.encode(&binary_marker).into_bytes(),
        ),
        (
            "binary value as url-safe base64",
            b64_url.encode(&binary_marker).into_bytes(),
        ),
        (
            "binary value as hex",
            hex::encode(&binary_marker).into_bytes(),
        ),
        (
            "string value as base64",
            b64.encode(string_marker.as_bytes()).into_bytes(),
        ),
        (
            "string value as hex",
            hex::encode(string_marker.as_bytes()).into_bytes(),
        ),
    ];
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for (what, needle) in &needles {
            assert!(
                !contains(&bytes, needle),
                "{what} found in plaintext in {}",
                file.display()
            );
        }
    }
    // The scan saw real data: the metadata stored in the clear is there.
    let db = database_bytes(dir.path());
    assert!(
        contains(&db, harmless.as_bytes()),
        "description not found: wrong files scanned?"
    );
    assert!(contains(&db, text_name.as_bytes()));
    assert!(contains(&db, binary_name.as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_key_and_credentials_are_private_and_the_root_key_stays_out_of_the_database() {
    let server = TestServer::start().await;
    let client = server.client();
    // Creating a secret creates and wraps the account's KMS key.
    let name = unique("root-key");
    client
        .create_secret()
        .name(&name)
        .secret_string("value")
        .send()
        .await
        .unwrap();
    let dir = server.stop().await;
    let root_path = dir.path().join(ROOT_KEY_FILE);
    let credentials_path = dir.path().join(CREDENTIALS_FILE);
    #[cfg(unix)]
    {
        assert_eq!(mode(&root_path), 0o600, "root.key mode");
        assert_eq!(mode(&credentials_path), 0o600, "credentials mode");
    }
    let hex_text = std::fs::read_to_string(&root_path).unwrap();
    let raw = hex::decode(hex_text.trim()).expect("root.key holds hex");
    assert_eq!(raw.len(), 32);
    let needles = [
        ("raw root key", raw.clone()),
        ("hex root key", hex_text.trim().as_bytes().to_vec()),
        (
            "upper-case hex root key",
            hex_text.trim().to_uppercase().into_bytes(),
        ),
        (
            "base64 root key",
            base64::engine::general_purpose::STANDARD
                .encode(&raw)
                .into_bytes(),
        ),
    ];
    let mut scanned_database = false;
    for file in files_in(dir.path()) {
        if file == root_path {
            continue;
        }
        scanned_database |= file_name(&file) == DATABASE_FILE;
        let bytes = std::fs::read(&file).unwrap();
        for (what, needle) in &needles {
            assert!(
                !contains(&bytes, needle),
                "{what} found in {}",
                file.display()
            );
        }
    }
    assert!(scanned_database);
    // The KMS key material really is in the database, wrapped.
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let keys: i64 = conn
        .query_row("SELECT COUNT(*) FROM kms_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_labels_survive_a_restart() {
    let server = TestServer::start().await;
    let client = server.client();
    let a = unique("durable-a");
    let b = unique("durable-b");
    let c = unique("durable-c");
    let d = unique("durable-d");
    let a1 = client
        .create_secret()
        .name(&a)
        .description("first")
        .secret_string("a-v1")
        .send()
        .await
        .unwrap();
    let a1_id = a1.version_id().unwrap().to_string();
    let a_arn = a1.arn().unwrap().to_string();
    let a2_id = client
        .put_secret_value()
        .secret_id(&a)
        .secret_string("a-v2")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    let a3_id = client
        .put_secret_value()
        .secret_id(&a)
        .secret_string("a-v3")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    client
        .update_secret_version_stage()
        .secret_id(&a)
        .version_stage("blue")
        .move_to_version_id(&a1_id)
        .send()
        .await
        .unwrap();
    let binary = strongbox::crypto::random_bytes(48).unwrap();
    client
        .create_secret()
        .name(&b)
        .secret_binary(Blob::new(binary.clone()))
        .send()
        .await
        .unwrap();
    client
        .create_secret()
        .name(&c)
        .secret_string("c-value")
        .tags(
            aws_sdk_secretsmanager::types::Tag::builder()
                .key("team")
                .value("red")
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .delete_secret()
        .secret_id(&c)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    client
        .create_secret()
        .name(&d)
        .secret_string("d-value")
        .send()
        .await
        .unwrap();
    client
        .delete_secret()
        .secret_id(&d)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let stages_before = client
        .describe_secret()
        .secret_id(&a)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .cloned()
        .unwrap();
    let admin = admin_credentials(server.dir.path());

    // Restart on the same directory.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let client = server.client();

    let described = client.describe_secret().secret_id(&a).send().await.unwrap();
    assert_eq!(described.arn(), Some(a_arn.as_str()));
    assert_eq!(described.description(), Some("first"));
    assert_eq!(
        described.version_ids_to_stages().cloned().unwrap(),
        stages_before
    );
    let get = |stage: Option<&str>, version: Option<&str>| {
        client
            .get_secret_value()
            .secret_id(&a)
            .set_version_stage(stage.map(str::to_string))
            .set_version_id(version.map(str::to_string))
            .send()
    };
    let current = get(None, None).await.unwrap();
    assert_eq!(current.secret_string(), Some("a-v2"));
    assert_eq!(current.version_id(), Some(a2_id.as_str()));
    assert_eq!(current.version_stages(), ["AWSCURRENT"]);
    let previous = get(Some("AWSPREVIOUS"), None).await.unwrap();
    assert_eq!(previous.secret_string(), Some("a-v1"));
    assert_eq!(previous.version_stages(), ["AWSPREVIOUS", "blue"]);
    let pending = get(Some("AWSPENDING"), None).await.unwrap();
    assert_eq!(pending.secret_string(), Some("a-v3"));
    assert_eq!(pending.version_id(), Some(a3_id.as_str()));
    assert_eq!(
        get(None, Some(&a1_id)).await.unwrap().secret_string(),
        Some("a-v1")
    );

    let got_b = client
        .get_secret_value()
        .secret_id(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got_b.secret_binary().map(|x| x.as_ref().to_vec()),
        Some(binary.clone())
    );

    // The scheduled deletion and its tags survived; it can still be restored.
    let described_c = client.describe_secret().secret_id(&c).send().await.unwrap();
    assert!(described_c.deleted_date().is_some());
    assert_eq!(described_c.tags().len(), 1);
    assert_eq!(described_c.tags()[0].key(), Some("team"));
    let err = client
        .get_secret_value()
        .secret_id(&c)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().code(),
        Some("InvalidRequestException")
    );
    client.restore_secret().secret_id(&c).send().await.unwrap();
    assert_eq!(
        client
            .get_secret_value()
            .secret_id(&c)
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some("c-value")
    );
    // The force-deleted secret stayed deleted.
    let err = client
        .get_secret_value()
        .secret_id(&d)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().code(),
        Some("ResourceNotFoundException")
    );

    // The admin key generated on first start still authenticates, and writes work.
    let admin_client = server.client_with("us-east-1", &admin.0, &admin.1);
    let put = admin_client
        .put_secret_value()
        .secret_id(&a)
        .secret_string("a-v4")
        .send()
        .await
        .unwrap();
    let a4_id = put.version_id().unwrap().to_string();

    // And once more: a second restart sees the write made after the first.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let client = server.client();
    let current = client
        .get_secret_value()
        .secret_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("a-v4"));
    assert_eq!(current.version_id(), Some(a4_id.as_str()));
    let previous = client
        .get_secret_value()
        .secret_id(&a)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(previous.secret_string(), Some("a-v2"));
    let listed = client.list_secrets().send().await.unwrap();
    let listed: Vec<&str> = listed
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .collect();
    for name in [&a, &b, &c] {
        assert!(
            listed.contains(&name.as_str()),
            "{name} not listed: {listed:?}"
        );
    }
    assert!(!listed.contains(&d.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_value_copied_onto_another_row_fails_to_decrypt() {
    let server = TestServer::start().await;
    let client = server.client();
    let a_marker = format!("A-MARKER-{}", uuid::Uuid::new_v4().simple());
    let a2_marker = format!("A2-MARKER-{}", uuid::Uuid::new_v4().simple());
    let b_marker = format!("B-MARKER-{}", uuid::Uuid::new_v4().simple());
    let c1_marker = format!("C1-MARKER-{}", uuid::Uuid::new_v4().simple());
    let c2_marker = format!("C2-MARKER-{}", uuid::Uuid::new_v4().simple());
    let (a, b, c) = (unique("swap-a"), unique("swap-b"), unique("swap-c"));

    let a1_id = client
        .create_secret()
        .name(&a)
        .secret_string(&a_marker)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    let a2_id = client
        .put_secret_value()
        .secret_id(&a)
        .secret_string(&a2_marker)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    // B's version has the same VersionId as A's current version, so a copy from B to A differs
    // only in the secret ARN the blob was bound to.
    client
        .create_secret()
        .name(&b)
        .client_request_token(&a2_id)
        .secret_string(&b_marker)
        .send()
        .await
        .unwrap();
    let c1_id = client
        .create_secret()
        .name(&c)
        .secret_string(&c1_marker)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();
    let c2_id = client
        .put_secret_value()
        .secret_id(&c)
        .secret_string(&c2_marker)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();

    let dir = server.stop().await;
    {
        let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let pk = |name: &str| -> i64 {
            conn.query_row("SELECT pk FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .unwrap()
        };
        let (a_pk, b_pk, c_pk) = (pk(&a), pk(&b), pk(&c));
        let copy = |from_pk: i64, from_v: &str, to_pk: i64, to_v: &str| {
            let n = conn
                .execute(
                    "UPDATE versions SET sealed = (SELECT sealed FROM versions \
                     WHERE secret_pk = ?1 AND version_id = ?2) \
                     WHERE secret_pk = ?3 AND version_id = ?4",
                    rusqlite::params![from_pk, from_v, to_pk, to_v],
                )
                .unwrap();
            assert_eq!(n, 1);
        };
        // Another secret's blob onto A's current version (same VersionId, other ARN).
        copy(b_pk, &a2_id, a_pk, &a2_id);
        // Another version's blob of the same secret onto C's current version.
        copy(c_pk, &c1_id, c_pk, &c2_id);
    }

    let server = TestServer::start_in(dir).await;
    let client = server.client();
    for (name, leaked) in [(&a, &b_marker), (&c, &c1_marker)] {
        let err = client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .unwrap_err();
        let err = err.into_service_error();
        assert!(err.is_decryption_failure(), "{name}: {err:?}");
        assert_eq!(err.code(), Some("DecryptionFailure"));
        let message = err.message().unwrap_or_default();
        assert!(!message.contains(leaked.as_str()), "{message}");
        // The raw response carries no plaintext at all.
        let raw = server
            .raw(
                "secretsmanager.GetSecretValue",
                &serde_json::json!({ "SecretId": name }).to_string(),
            )
            .await;
        assert_eq!(raw.status, 400);
        assert_eq!(raw.json()["__type"], "DecryptionFailure");
        let body = String::from_utf8_lossy(&raw.body);
        for marker in [&a_marker, &a2_marker, &b_marker, &c1_marker, &c2_marker] {
            assert!(!body.contains(marker.as_str()), "{body}");
        }
    }
    // The rows that were not touched still open.
    let get = |name: &str, version: &str| {
        client
            .get_secret_value()
            .secret_id(name)
            .version_id(version)
            .send()
    };
    assert_eq!(
        get(&a, &a1_id).await.unwrap().secret_string(),
        Some(a_marker.as_str())
    );
    assert_eq!(
        get(&b, &a2_id).await.unwrap().secret_string(),
        Some(b_marker.as_str())
    );
    assert_eq!(
        get(&c, &c1_id).await.unwrap().secret_string(),
        Some(c1_marker.as_str())
    );
}

/// The real binary, with no root key source inherited from the environment.
#[cfg(target_os = "linux")]
fn strongbox_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_strongbox"));
    command.env("STRONGBOX_LOG", "warn");
    for name in [
        "STRONGBOX_ROOT_KEY",
        "STRONGBOX_ROOT_KEY_FILE",
        "STRONGBOX_ROOT_PASSPHRASE",
        "STRONGBOX_ROOT_PASSPHRASE_FILE",
    ] {
        command.env_remove(name);
    }
    command
}

/// A `strongbox serve` started by a test; killed if an assertion fails while it runs.
#[cfg(target_os = "linux")]
struct ServeProcess {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`, from the first line it printed.
    url: String,
}

#[cfg(target_os = "linux")]
impl ServeProcess {
    /// Starts `command` (a `serve` on port 0) and waits for its `Listening on` line.
    fn start(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut server = Self {
            child,
            url: String::new(),
        };
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .unwrap();
        server.url = first
            .trim()
            .strip_prefix("Listening on ")
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        server
    }

    /// Stops it with SIGTERM and checks that it exits cleanly.
    fn stop(mut self) {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.child.id()).unwrap()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        assert!(self.child.wait().unwrap().success());
    }
}

#[cfg(target_os = "linux")]
impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs an offline command on `data` with `configure`'s root key source; returns whether it
/// succeeded and its stderr.
#[cfg(target_os = "linux")]
fn offline(
    data: &Path,
    command: &[&str],
    configure: impl FnOnce(&mut std::process::Command),
) -> (bool, String) {
    let mut run = strongbox_command();
    run.args(command).arg("--data-dir").arg(data);
    configure(&mut run);
    let output = run.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stderr)
}

/// The root key from `STRONGBOX_ROOT_KEY`: the real binary serves with it, writes it nowhere,
/// and every offline command needs it too; the process keeps its memory out of core dumps.
#[cfg(target_os = "linux")]
#[test]
fn a_root_key_from_the_environment_stays_out_of_the_data_directory() {
    let key = "5e".repeat(32);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut serve = strongbox_command();
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("STRONGBOX_ROOT_KEY", &key);
    let server = ServeProcess::start(serve);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    server.stop();

    assert!(!data.join(ROOT_KEY_FILE).exists());
    for file in files_in(&data) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the root key is in {}",
            file.display()
        );
    }
    // An offline command on the stopped server's directory, with `key` in STRONGBOX_ROOT_KEY.
    let with_key = |key: &str| {
        let key = key.to_string();
        move |run: &mut std::process::Command| {
            run.env("STRONGBOX_ROOT_KEY", key);
        }
    };
    let list = ["account", "list"];
    let (ok, stderr) = offline(&data, &list, with_key(&key));
    assert!(ok, "{stderr}");
    let (ok, stderr) = offline(&data, &list, |_| {});
    assert!(!ok);
    assert!(stderr.contains("already initialised"), "{stderr}");
    assert!(!data.join(ROOT_KEY_FILE).exists(), "no key was made up");
    let (_, stderr) = offline(&data, &list, with_key(&"a7".repeat(32)));
    assert!(
        stderr.contains("the root key from STRONGBOX_ROOT_KEY does not open data directory"),
        "{stderr}"
    );
    let (_, stderr) = offline(&data, &list, with_key(""));
    assert!(
        stderr.contains("STRONGBOX_ROOT_KEY is set but empty"),
        "{stderr}"
    );
    let (ok, stderr) = offline(&data, &["audit", "verify"], with_key(&key));
    assert!(ok, "{stderr}");
}

/// The root key from a passphrase: the real binary derives it at every start, from
/// `STRONGBOX_ROOT_PASSPHRASE` or from a `--root-passphrase-file` (the same key either way),
/// writes neither the passphrase nor the key anywhere, and refuses a wrong passphrase, a key
/// in its place, and two sources at once.
#[cfg(target_os = "linux")]
#[test]
fn a_root_key_from_a_passphrase_is_derived_at_every_start_and_written_nowhere() {
    let passphrase = format!("correct horse battery {}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // As a Docker or Kubernetes secret usually holds it: with a trailing newline.
    let passphrase_file = dir.path().join("passphrase");
    std::fs::write(&passphrase_file, format!("{passphrase}\n")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = |url: &str| {
        let (id, secret) = admin_credentials(&data);
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                id, secret, None, None, "test",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    };
    let serve = |configure: &dyn Fn(&mut std::process::Command)| {
        let mut command = strongbox_command();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data);
        configure(&mut command);
        ServeProcess::start(command)
    };

    let name = unique("passphrase");
    let marker = format!("PASSPHRASE-SEALED-{}", uuid::Uuid::new_v4().simple());
    let server = serve(&|c| {
        c.env("STRONGBOX_ROOT_PASSPHRASE", &passphrase);
    });
    runtime
        .block_on(
            client(&server.url)
                .create_secret()
                .name(&name)
                .secret_string(&marker)
                .send(),
        )
        .unwrap();
    server.stop();
    assert!(data.join(strongbox::server::ROOT_KDF_FILE).exists());
    assert!(!data.join(ROOT_KEY_FILE).exists());
    for file in files_in(&data) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in [&passphrase, &marker] {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{needle} is in {}",
                file.display()
            );
        }
    }

    // The same passphrase from a file opens it again and reads the value back.
    let server = serve(&|c| {
        c.arg("--root-passphrase-file").arg(&passphrase_file);
    });
    let value = runtime
        .block_on(
            client(&server.url)
                .get_secret_value()
                .secret_id(&name)
                .send(),
        )
        .unwrap();
    assert_eq!(value.secret_string(), Some(marker.as_str()));
    server.stop();

    let list = ["account", "list"];
    let (ok, stderr) = offline(&data, &list, |c| {
        c.env("STRONGBOX_ROOT_PASSPHRASE_FILE", &passphrase_file);
    });
    assert!(ok, "{stderr}");
    let (ok, stderr) = offline(&data, &["audit", "verify"], |c| {
        c.env("STRONGBOX_ROOT_PASSPHRASE", &passphrase);
    });
    assert!(ok, "{stderr}");
    let refused = |configure: &dyn Fn(&mut std::process::Command), expected: &str| {
        let (ok, stderr) = offline(&data, &list, configure);
        assert!(!ok, "{expected}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains(&passphrase), "{stderr}");
    };
    refused(
        &|c| {
            c.env("STRONGBOX_ROOT_PASSPHRASE", format!("{passphrase}!"));
        },
        "the passphrase from STRONGBOX_ROOT_PASSPHRASE does not open data directory",
    );
    let wrong_file = dir.path().join("wrong-passphrase");
    std::fs::write(&wrong_file, format!("{passphrase}!\n")).unwrap();
    refused(
        &|c| {
            c.arg("--root-passphrase-file").arg(&wrong_file);
        },
        &format!("the passphrase in {} does not open", wrong_file.display()),
    );
    refused(&|_| {}, "was initialised with a passphrase, not a root key");
    refused(
        &|c| {
            c.env("STRONGBOX_ROOT_KEY", "5e".repeat(32));
        },
        "was initialised with a passphrase, not a root key",
    );
    refused(
        &|c| {
            c.env("STRONGBOX_ROOT_PASSPHRASE", &passphrase)
                .arg("--root-passphrase-file")
                .arg(&passphrase_file);
        },
        "give the root key one way only",
    );
    refused(
        &|c| {
            c.env("STRONGBOX_ROOT_PASSPHRASE", "too short");
        },
        "at least 12 characters",
    );
    refused(
        &|c| {
            c.env("STRONGBOX_ROOT_PASSPHRASE", "");
        },
        "STRONGBOX_ROOT_PASSPHRASE is set but empty",
    );
    assert!(!data.join(ROOT_KEY_FILE).exists(), "no key was made up");
}
