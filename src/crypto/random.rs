//! Uniform random choices from the OS CSPRNG: passwords, ARN suffixes, access keys, account ids.

use super::{CryptoError, random_bytes};

/// Uniform random indexes, drawing CSPRNG bytes in batches.
#[derive(Default)]
pub struct RandomIndex {
    pool: Vec<u8>,
}

impl std::fmt::Debug for RandomIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RandomIndex")
    }
}

impl RandomIndex {
    /// A source with an empty pool; the first draw fills it.
    pub fn new() -> Self {
        Self::default()
    }

    /// A uniform index in `0..n`, for `1 <= n <= 65_536`.
    pub fn below(&mut self, n: usize) -> Result<usize, CryptoError> {
        let n = u32::try_from(n)
            .ok()
            .filter(|n| (1..=65_536).contains(n))
            .ok_or(CryptoError::Rng)?;
        // Two bytes give a 16-bit sample; rejecting samples at or above the largest multiple of
        // n keeps the result uniform.
        let limit = (65_536 / n) * n;
        loop {
            if self.pool.len() < 2 {
                self.pool = random_bytes(256)?;
            }
            let (hi, lo) = (self.pool.pop(), self.pool.pop());
            let sample = u32::from(hi.unwrap_or(0)) << 8 | u32::from(lo.unwrap_or(0));
            if sample < limit {
                return Ok((sample % n) as usize);
            }
        }
    }
}

/// `n` characters drawn uniformly from `alphabet` (ASCII).
pub fn random_string(alphabet: &[u8], n: usize) -> Result<String, CryptoError> {
    let mut rng = RandomIndex::new();
    (0..n)
        .map(|_| Ok(char::from(alphabet[rng.below(alphabet.len())?])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_in_range_and_cover() {
        let mut rng = RandomIndex::new();
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[rng.below(7).unwrap()] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert!(rng.below(0).is_err());
    }

    #[test]
    fn strings_use_the_alphabet() {
        let s = random_string(b"ab", 64).unwrap();
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|b| b == b'a' || b == b'b'));
    }
}
