//! What each workload sends: operation names and JSON bodies over a seeded set of secrets
//! named `<prefix>/<7-digit index>`.

use clap::ValueEnum;
use serde_json::json;

/// A benchmark workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// GetSecretValue of a random seeded secret (AWSCURRENT).
    Get,
    /// PutSecretValue of a random seeded secret, fresh ClientRequestToken each time.
    Put,
    /// BatchGetSecretValue of 10 random seeded secrets by id.
    BatchGet,
    /// ListSecrets, first page of 100, no filter.
    List,
    /// ListSecrets, 100 per page, with a `name` prefix filter that selects about 100 secrets.
    ListFilter,
    /// DescribeSecret of a random seeded secret.
    Describe,
    /// 80% get, 10% describe, 5% put, 5% list-filter.
    Mixed,
}

impl Workload {
    /// The wire name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Get => "get",
            Workload::Put => "put",
            Workload::BatchGet => "batch-get",
            Workload::List => "list",
            Workload::ListFilter => "list-filter",
            Workload::Describe => "describe",
            Workload::Mixed => "mixed",
        }
    }
}

/// A small, fast, non-cryptographic generator (SplitMix64): the load generator only needs
/// uniform picks, and must not spend the server's CPU on a CSPRNG.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0; the modulo bias is irrelevant for load generation).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A random version-4-shaped UUID, for ClientRequestTokens.
    pub fn uuid(&mut self) -> String {
        let bytes = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        uuid::Builder::from_random_bytes(bytes.to_be_bytes())
            .into_uuid()
            .to_string()
    }
}

/// The name of seeded secret `i`.
pub fn secret_name(prefix: &str, i: u64) -> String {
    format!("{prefix}/{i:07}")
}

/// A secret value of realistic size (a database credential, about 90 bytes).
pub fn secret_value(rng: &mut Rng) -> String {
    format!(
        r#"{{"username":"bench","password":"{:016x}{:016x}","engine":"postgres"}}"#,
        rng.next_u64(),
        rng.next_u64()
    )
}

/// The CreateSecret body that seeds secret `i`.
pub fn create_body(prefix: &str, i: u64, rng: &mut Rng) -> Vec<u8> {
    json!({
        "Name": secret_name(prefix, i),
        "SecretString": secret_value(rng),
        "ClientRequestToken": rng.uuid(),
    })
    .to_string()
    .into_bytes()
}

/// One request of `workload`: the operation name and its JSON body. `rng` picks what to send
/// (repeatable with `--seed`); `tokens` makes ClientRequestTokens, and must be seeded afresh
/// for every run: a token a server has seen makes a put an idempotent replay, not a write.
pub fn next_request(
    workload: Workload,
    prefix: &str,
    secrets: u64,
    rng: &mut Rng,
    tokens: &mut Rng,
) -> (&'static str, Vec<u8>) {
    let workload = match workload {
        Workload::Mixed => match rng.below(100) {
            0..80 => Workload::Get,
            80..90 => Workload::Describe,
            90..95 => Workload::Put,
            _ => Workload::ListFilter,
        },
        other => other,
    };
    let pick = |rng: &mut Rng| secret_name(prefix, rng.below(secrets));
    let (op, body) = match workload {
        Workload::Get | Workload::Mixed => ("GetSecretValue", json!({ "SecretId": pick(rng) })),
        Workload::Describe => ("DescribeSecret", json!({ "SecretId": pick(rng) })),
        Workload::Put => (
            "PutSecretValue",
            json!({
                "SecretId": pick(rng),
                "ClientRequestToken": tokens.uuid(),
                "SecretString": secret_value(rng),
            }),
        ),
        Workload::BatchGet => {
            let ids: Vec<String> = (0..10).map(|_| pick(rng)).collect();
            ("BatchGetSecretValue", json!({ "SecretIdList": ids }))
        }
        Workload::List => ("ListSecrets", json!({ "MaxResults": 100 })),
        Workload::ListFilter => {
            // Dropping the last two digits selects the 100 secrets that share the rest.
            let name = pick(rng);
            let prefix = &name[..name.len().saturating_sub(2)];
            (
                "ListSecrets",
                json!({
                    "MaxResults": 100,
                    "Filters": [{ "Key": "name", "Values": [prefix] }],
                }),
            )
        }
    };
    (op, body.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_filter_selects_a_hundred() {
        let mut rng = Rng::new(7);
        let (op, body) = next_request(
            Workload::ListFilter,
            "bench",
            1_000_000,
            &mut rng,
            &mut Rng::new(8),
        );
        assert_eq!(op, "ListSecrets");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let prefix = v["Filters"][0]["Values"][0].as_str().unwrap();
        assert_eq!(prefix.len(), "bench/".len() + 5);
    }

    /// Two runs with the same seed pick the same secrets but never reuse a token (a reused
    /// token turns a put into an idempotent replay, and the benchmark would measure reads).
    #[test]
    fn same_seed_repeats_picks_but_not_tokens() {
        let body = |tokens: u64| {
            let (op, body) = next_request(
                Workload::Put,
                "put",
                20_000,
                &mut Rng::new(1),
                &mut Rng::new(tokens),
            );
            assert_eq!(op, "PutSecretValue");
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        };
        let (first, second) = (body(10), body(11));
        assert_eq!(first["SecretId"], second["SecretId"]);
        assert_eq!(first["SecretString"], second["SecretString"]);
        assert_ne!(first["ClientRequestToken"], second["ClientRequestToken"]);
    }

    #[test]
    fn tokens_are_fresh_and_valid() {
        let mut rng = Rng::new(1);
        let a = rng.uuid();
        let b = rng.uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
