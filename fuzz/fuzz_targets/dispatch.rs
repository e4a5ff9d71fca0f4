//! Request decoding for every operation: an arbitrary body through `Service::dispatch` on a real
//! SQLite store never panics. The first byte picks the operation from `Operation::ALL`.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use strongbox::api::{Operation, RequestContext, Service};
use strongbox::auth::Caller;
use strongbox::clock::ManualClock;
use strongbox::crypto::{Keyring, RootKey};
use strongbox::store::{SqliteStore, Store};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    service: Service,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("fuzz.db")).expect("store"));
        let (root, _) = RootKey::generate().expect("root key");
        let keyring = Arc::new(Keyring::new(root, store.clone()));
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        Fixture {
            runtime,
            service: Service::new(store, keyring, clock),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let op = Operation::ALL[usize::from(selector) % Operation::ALL.len()];
    let f = fixture();
    let ctx = RequestContext {
        caller: Caller::root("123456789012", "AKIDFUZZ"),
        region: "us-east-1".into(),
        request_id: "fuzz".into(),
        now: 1_700_000_000_000,
        source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        secure_transport: false,
        user_agent: None,
    };
    let _ = f.runtime.block_on(f.service.dispatch(&ctx, op, body));
});
