//! The sealed-value decoder: arbitrary bytes, and arbitrary bytes behind a valid header naming
//! the live key, never panic and never open; a seal/open round trip always succeeds.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use strongbox::crypto::{
    EncryptionContext, Keyring, KmsKey, RootKey, SEALED_FORMAT_V1, SecretBytes, SecretValue,
    open_value, seal_value, sealed_key_id,
};
use strongbox::store::{SqliteStore, Store};

fn key() -> &'static (Arc<KmsKey>, tempfile::TempDir) {
    static KEY: OnceLock<(Arc<KmsKey>, tempfile::TempDir)> = OnceLock::new();
    KEY.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("fuzz.db")).expect("store"));
        let (root, _) = RootKey::generate().expect("root key");
        let keyring = Keyring::new(root, store);
        let key = runtime
            .block_on(keyring.default_key("123456789012", "us-east-1", 0))
            .expect("key");
        (key, dir)
    })
}

const CONTEXT: EncryptionContext<'static> = EncryptionContext {
    secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:fuzz-AbCdEf",
    version_id: "00000000-0000-4000-8000-000000000000",
};

fuzz_target!(|data: &[u8]| {
    let (key, _) = key();
    let _ = sealed_key_id(data);
    assert!(open_value(key, CONTEXT, data).is_err());

    // The same bytes behind a header that names the live key: reaches the length checks and
    // the AEAD, which must reject anything not sealed by us.
    let id = key.key_id.as_bytes();
    let mut spliced = vec![SEALED_FORMAT_V1, id.len() as u8];
    spliced.extend_from_slice(id);
    spliced.extend_from_slice(&key.material_version.to_be_bytes());
    spliced.extend_from_slice(data);
    assert!(open_value(key, CONTEXT, &spliced).is_err());

    // Round trip.
    let value = SecretValue::Binary(SecretBytes::new(data.to_vec()));
    let sealed = seal_value(key, CONTEXT, &value).expect("seal");
    let opened = open_value(key, CONTEXT, &sealed).expect("open");
    assert!(opened.ct_eq(&value));
});
