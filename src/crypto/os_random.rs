//! Bytes from the operating system's CSPRNG, fetched a block at a time per thread.
//!
//! Why: one `getrandom` system call per draw made several per request (the request id, the
//! audit event id, and on writes a data key and two nonces). A 4 KiB block per thread serves
//! hundreds of requests with one call. Nothing is derived or stretched: every byte handed out
//! came from the OS generator and is handed out once; the pool zeroes what it hands out and is
//! zeroed when its thread ends (it holds future key material). The pool is per thread and the
//! process never forks without `exec`, so no two consumers can see the same bytes.

use std::cell::RefCell;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

use super::CryptoError;

/// Bytes fetched from the OS per refill.
const BLOCK: usize = 4096;
/// Requests larger than this go straight to the OS instead of through the pool.
const DIRECT: usize = 256;

struct Pool {
    bytes: Zeroizing<Vec<u8>>,
    /// Bytes before this index have been handed out (and zeroed).
    next: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        bytes: Zeroizing::new(vec![0; BLOCK]),
        next: BLOCK,
    });
}

/// Fills `dest` with bytes from the OS CSPRNG.
pub fn fill(dest: &mut [u8]) -> Result<(), CryptoError> {
    if dest.len() > DIRECT {
        return SystemRandom::new().fill(dest).map_err(|_| CryptoError::Rng);
    }
    POOL.with(|pool| {
        let mut pool = pool.try_borrow_mut().map_err(|_| CryptoError::Rng)?;
        let pool = &mut *pool;
        if BLOCK - pool.next < dest.len() {
            SystemRandom::new()
                .fill(&mut pool.bytes)
                .map_err(|_| CryptoError::Rng)?;
            pool.next = 0;
        }
        let taken = &mut pool.bytes[pool.next..pool.next + dest.len()];
        dest.copy_from_slice(taken);
        taken.zeroize();
        pool.next += dest.len();
        Ok(())
    })
}

/// A random (version 4) UUID.
pub fn uuid_v4() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    match fill(&mut bytes) {
        Ok(()) => uuid::Builder::from_random_bytes(bytes).into_uuid(),
        // The pool failed (the OS generator did): the uuid crate's own call, which has the
        // same source, decides.
        Err(_) => uuid::Uuid::new_v4(),
    }
}

/// A time-ordered (version 7) UUID for the current time.
pub fn uuid_v7() -> uuid::Uuid {
    let mut bytes = [0u8; 10];
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    match fill(&mut bytes) {
        Ok(()) => uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid(),
        Err(_) => uuid::Uuid::now_v7(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws never repeat across refills and sizes, and large draws bypass the pool.
    #[test]
    fn draws_are_distinct_across_refills() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..2_000 {
            let mut b = vec![0u8; 16 + i % 17];
            fill(&mut b).unwrap();
            assert!(seen.insert(b[..16].to_vec()));
        }
        let mut big = vec![0u8; 1000];
        fill(&mut big).unwrap();
        assert!(big.iter().any(|&b| b != 0));
    }

    #[test]
    fn uuids_have_their_versions() {
        assert_eq!(uuid_v4().get_version_num(), 4);
        let v7 = uuid_v7();
        assert_eq!(v7.get_version_num(), 7);
        assert_ne!(uuid_v7(), v7);
    }
}
