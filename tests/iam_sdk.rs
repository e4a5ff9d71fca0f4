//! IAM, STS, identity policies and secret resource policies end to end, driven by the AWS SDK
//! for Rust (`aws-sdk-iam`, `aws-sdk-sts`, `aws-sdk-secretsmanager`) against a real server:
//! least privilege, tag and source-IP conditions, cross-account reads through a resource
//! policy, AssumeRole with expiry on the server's manual clock, BlockPublicPolicy, and IAM's
//! own management operations.

mod common;

use aws_credential_types::Credentials;
use aws_sdk_iam::config::{BehaviorVersion, Region};
use common::sdk::{assert_code, assert_err, create, service_err};
use common::{ACCOUNT, TestServer};
use serde_json::{Value, json};
use strongbox::clock::Clock;

/// The second account of the cross-account tests.
const OTHER_ACCOUNT: &str = "222222222222";
/// The region every client signs for.
const REGION: &str = "us-east-1";
/// AWS's message for a deactivated, deleted or unknown access key.
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
/// AWS's message for an expired session.
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";
/// AWS's message for a cross-account value read of a secret under the default key.
const DEFAULT_KEY_CROSS_ACCOUNT: &str = "You can't access a secret from a different AWS account \
                                         if you encrypt the secret with the default KMS service \
                                         key.";
/// AWS's PublicPolicyException message.
const PUBLIC_POLICY: &str = "This resource policy contains a policy that grants public access \
                             to the resource. Resource policies that grant public access are \
                             blocked.";

// ------------------------------------------------------------------------------------------
// Clients and helpers
// ------------------------------------------------------------------------------------------

/// An access key pair (and session token for temporary credentials).
#[derive(Debug, Clone)]
struct Key {
    id: String,
    secret: String,
    token: Option<String>,
}

impl Key {
    fn new(id: &str, secret: &str) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            token: None,
        }
    }

    /// The bootstrap root key of account 123456789012.
    fn root() -> Self {
        Self::new(common::ACCESS_KEY, common::SECRET_KEY)
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(&self.id, &self.secret, self.token.clone(), None, "iam-sdk")
    }
}

/// Clients of the three services for one credential.
struct Clients {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    sm: aws_sdk_secretsmanager::Client,
}

fn clients(srv: &TestServer, key: &Key) -> Clients {
    let iam = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(srv.endpoint())
        .credentials_provider(key.credentials())
        .time_source(srv.time_source())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let sts = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(REGION))
        .endpoint_url(srv.endpoint())
        .credentials_provider(key.credentials())
        .time_source(srv.time_source())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Clients {
        iam: aws_sdk_iam::Client::from_conf(iam),
        sts: aws_sdk_sts::Client::from_conf(sts),
        sm: srv.client_with_credentials(REGION, key.credentials()),
    }
}

/// `arn:aws:iam::<account>:user/<name>`.
fn user_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{name}")
}

/// AWS's AccessDenied text when no identity-based policy allows the action.
fn no_identity_policy(principal: &str, action: &str, resource: Option<&str>) -> String {
    let on = resource
        .map(|r| format!(" on resource: {r}"))
        .unwrap_or_default();
    format!(
        "User: {principal} is not authorized to perform: {action}{on} because no \
         identity-based policy allows the {action} action"
    )
}

/// A policy document with one Allow statement.
fn allow(actions: &[&str], resources: &[&str]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]
    })
    .to_string()
}

/// Creates a user with an optional inline policy and returns a new access key for it.
async fn user_with_policy(admin: &aws_sdk_iam::Client, name: &str, policy: Option<&str>) -> Key {
    admin
        .create_user()
        .user_name(name)
        .send()
        .await
        .expect("create_user");
    if let Some(doc) = policy {
        admin
            .put_user_policy()
            .user_name(name)
            .policy_name("inline")
            .policy_document(doc)
            .send()
            .await
            .expect("put_user_policy");
    }
    access_key(admin, name).await
}

/// Creates an access key for `user`.
async fn access_key(admin: &aws_sdk_iam::Client, user: &str) -> Key {
    let out = admin
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .expect("create_access_key");
    let key = out.access_key().expect("AccessKey");
    assert_eq!(key.user_name(), user);
    assert_eq!(key.status().as_str(), "Active");
    Key::new(key.access_key_id(), key.secret_access_key())
}

/// Replaces `user`'s inline policy `inline`.
async fn set_policy(admin: &aws_sdk_iam::Client, user: &str, doc: &str) {
    admin
        .put_user_policy()
        .user_name(user)
        .policy_name("inline")
        .policy_document(doc)
        .send()
        .await
        .expect("put_user_policy");
}

/// Decodes IAM's URL-encoded policy documents (the SDK for Rust returns them as sent).
fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// Parses a (URL-encoded) policy document as JSON.
fn policy_json(encoded: &str) -> Value {
    serde_json::from_str(&url_decode(encoded)).expect("policy JSON")
}

/// Assumes `role_arn` and returns the session's temporary key.
async fn assume(sts: &aws_sdk_sts::Client, role_arn: &str, session: &str) -> Key {
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .send()
        .await
        .unwrap_or_else(|e| panic!("assume_role {role_arn}: {e:?}"));
    let c = out.credentials().expect("Credentials");
    Key {
        id: c.access_key_id().into(),
        secret: c.secret_access_key().into(),
        token: Some(c.session_token().into()),
    }
}

/// ListResourcePolicies' policy names, as the bootstrap root. The operation is newer than the
/// pinned aws-sdk-secretsmanager, so it goes as a raw signed request (boto3 covers it in
/// tests/compat/test_iam.py).
async fn policy_names(srv: &TestServer, secret_id: &str) -> Vec<String> {
    let resp = srv
        .raw(
            "secretsmanager.ListResourcePolicies",
            &json!({ "SecretId": secret_id }).to_string(),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json()["ResourcePolicies"]
        .as_array()
        .expect("ResourcePolicies")
        .iter()
        .map(|p| p["PolicyName"].as_str().expect("PolicyName").to_string())
        .collect()
}

/// The first secret value read succeeds and returns `value`.
async fn reads(sm: &aws_sdk_secretsmanager::Client, id: &str, value: &str) {
    let out = sm
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_secret_value {id}: {e:?}"));
    assert_eq!(out.secret_string(), Some(value));
}

/// GetSecretValue of `id` is denied; returns the message.
async fn denied_read(sm: &aws_sdk_secretsmanager::Client, id: &str) -> String {
    assert_code(
        sm.get_secret_value().secret_id(id).send().await,
        "AccessDeniedException",
    )
}

// ------------------------------------------------------------------------------------------
// (a) Least privilege
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_limited_to_one_secret_reads_it_and_is_denied_everything_else() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (allowed_arn, _) = create(&root.sm, "app/allowed", "s3cr3t").await;
    let (other_arn, _) = create(&root.sm, "app/other", "not-yours").await;

    let key = user_with_policy(
        &root.iam,
        "reader",
        Some(&allow(&["secretsmanager:GetSecretValue"], &[&allowed_arn])),
    )
    .await;
    let alice = clients(&srv, &key);
    let me = user_arn(ACCOUNT, "reader");

    // The one permitted read, by name and by full ARN.
    reads(&alice.sm, "app/allowed", "s3cr3t").await;
    reads(&alice.sm, &allowed_arn, "s3cr3t").await;

    // Another secret: AWS's message names the caller, the action, the SecretId as sent, and
    // why.
    assert_err(
        alice
            .sm
            .get_secret_value()
            .secret_id("app/other")
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:GetSecretValue", Some("app/other")),
    );
    assert_err(
        alice
            .sm
            .get_secret_value()
            .secret_id(&other_arn)
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:GetSecretValue", Some(&other_arn)),
    );
    // A secret that does not exist is denied too, not "not found": no probing for names.
    assert_err(
        alice
            .sm
            .get_secret_value()
            .secret_id("app/missing")
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:GetSecretValue", Some("app/missing")),
    );

    // ListSecrets is on `*`: the message has no resource.
    assert_err(
        alice.sm.list_secrets().send().await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:ListSecrets", None),
    );
    let msg = assert_code(
        alice
            .sm
            .create_secret()
            .name("app/new")
            .secret_string("x")
            .send()
            .await,
        "AccessDeniedException",
    );
    assert!(
        msg.starts_with(&format!(
            "User: {me} is not authorized to perform: secretsmanager:CreateSecret on resource: "
        )) && msg.ends_with(
            "because no identity-based policy allows the secretsmanager:CreateSecret action"
        ),
        "{msg}"
    );
    // Not even metadata of the permitted secret.
    assert_err(
        alice
            .sm
            .describe_secret()
            .secret_id("app/allowed")
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:DescribeSecret", Some("app/allowed")),
    );
    assert_code(
        alice
            .sm
            .put_secret_value()
            .secret_id("app/allowed")
            .secret_string("overwrite")
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_code(
        alice
            .sm
            .delete_secret()
            .secret_id("app/allowed")
            .force_delete_without_recovery(true)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_code(
        alice.sm.get_random_password().send().await,
        "AccessDeniedException",
    );
    // Nor IAM: the same engine authorises iam:* actions (AccessDenied, 403, in XML).
    let (code, msg) = service_err(alice.iam.list_users().send().await);
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        msg,
        no_identity_policy(
            &me,
            "iam:ListUsers",
            Some(&format!("arn:aws:iam::{ACCOUNT}:user/"))
        )
    );
    assert_code(
        alice.iam.create_user().user_name("eve").send().await,
        "AccessDenied",
    );

    // Nothing changed; the root still sees both secrets untouched.
    reads(&root.sm, "app/allowed", "s3cr3t").await;
    reads(&root.sm, "app/other", "not-yours").await;
    assert_code(
        root.sm.describe_secret().secret_id("app/new").send().await,
        "ResourceNotFoundException",
    );
}

// ------------------------------------------------------------------------------------------
// (b) Tag conditions and tag lock-out
// ------------------------------------------------------------------------------------------

/// A temporary key without its session token is no credential: UnrecognizedClient.
async fn refused_without_token(srv: &TestServer, temp: &Key, secret_id: &str) {
    let tokenless = clients(
        srv,
        &Key {
            token: None,
            ..temp.clone()
        },
    );
    assert_code(
        tokenless
            .sm
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await,
        "UnrecognizedClientException",
    );
}

/// An IAM tag.
fn iam_tag(key: &str, value: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("tag")
}

#[tokio::test]
async fn iam_actions_see_request_and_resource_tags() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    // An admin of the blue team: creates users only tagged team=blue, reads and deletes only
    // blue users, and may remove only the `temp` tag.
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:CreateUser", "iam:TagUser"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}
            },
            {
                "Effect": "Allow",
                "Action": ["iam:GetUser", "iam:DeleteUser", "iam:TagUser"],
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:ResourceTag/team": "blue"}}
            },
            {
                "Effect": "Allow",
                "Action": "iam:UntagUser",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:ResourceTag/team": "blue"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["temp"]}
                }
            }
        ]
    })
    .to_string();
    let lead = clients(
        &srv,
        &user_with_policy(&root.iam, "lead", Some(&policy)).await,
    );

    assert_code(
        lead.iam
            .create_user()
            .user_name("red-1")
            .tags(iam_tag("team", "red"))
            .send()
            .await,
        "AccessDenied",
    );
    assert_code(
        lead.iam.create_user().user_name("untagged").send().await,
        "AccessDenied",
    );
    lead.iam
        .create_user()
        .user_name("blue-1")
        .tags(iam_tag("team", "blue"))
        .send()
        .await
        .expect("create a blue user");
    lead.iam
        .get_user()
        .user_name("blue-1")
        .send()
        .await
        .expect("get a blue user");
    root.iam
        .create_user()
        .user_name("red-2")
        .tags(iam_tag("team", "red"))
        .send()
        .await
        .expect("root creates a red user");
    assert_code(
        lead.iam.get_user().user_name("red-2").send().await,
        "AccessDenied",
    );
    // Tagging a blue user: its tag (resource) or the request's tag must say blue.
    lead.iam
        .tag_user()
        .user_name("blue-1")
        .tags(iam_tag("temp", "x"))
        .send()
        .await
        .expect("tag a blue user");
    assert_code(
        lead.iam
            .tag_user()
            .user_name("red-2")
            .tags(iam_tag("temp", "x"))
            .send()
            .await,
        "AccessDenied",
    );
    // Untagging: only the `temp` key.
    assert_code(
        lead.iam
            .untag_user()
            .user_name("blue-1")
            .tag_keys("team")
            .send()
            .await,
        "AccessDenied",
    );
    lead.iam
        .untag_user()
        .user_name("blue-1")
        .tag_keys("temp")
        .send()
        .await
        .expect("remove the temp tag");
    assert_code(
        lead.iam.delete_user().user_name("red-2").send().await,
        "AccessDenied",
    );
    lead.iam
        .delete_user()
        .user_name("blue-1")
        .send()
        .await
        .expect("delete a blue user");
}

#[tokio::test]
async fn tag_conditioned_policy_allows_matching_secrets_only() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    for (name, team) in [
        ("blue/db", Some("blue")),
        ("red/db", Some("red")),
        ("plain", None),
    ] {
        let mut req = root
            .sm
            .create_secret()
            .name(name)
            .secret_string(format!("{name}-value"));
        if let Some(team) = team {
            req = req.tags(common::sdk::tag("team", team));
        }
        req.send().await.expect("create_secret");
    }

    // The user's own tag names the team whose secrets it may use.
    root.iam
        .create_user()
        .user_name("bob")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create_user");
    set_policy(
        &root.iam,
        "bob",
        &json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:TagResource"
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}
                }
            }]
        })
        .to_string(),
    )
    .await;
    let bob = clients(&srv, &access_key(&root.iam, "bob").await);
    let me = user_arn(ACCOUNT, "bob");

    reads(&bob.sm, "blue/db", "blue/db-value").await;
    bob.sm
        .describe_secret()
        .secret_id("blue/db")
        .send()
        .await
        .expect("describe own team's secret");
    assert_err(
        bob.sm.get_secret_value().secret_id("red/db").send().await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:GetSecretValue", Some("red/db")),
    );
    // A secret without the tag: the condition key is absent, so StringEquals fails.
    denied_read(&bob.sm, "plain").await;

    // Adding an unrelated tag keeps access: allowed.
    bob.sm
        .tag_resource()
        .secret_id("blue/db")
        .tags(common::sdk::tag("env", "dev"))
        .send()
        .await
        .expect("tag that keeps access");
    // Retagging to another team would lock bob out of the secret: refused, nothing changes.
    assert_err(
        bob.sm
            .tag_resource()
            .secret_id("blue/db")
            .tags(common::sdk::tag("team", "red"))
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:TagResource", Some("blue/db")),
    );
    let tags = root
        .sm
        .describe_secret()
        .secret_id("blue/db")
        .send()
        .await
        .expect("describe")
        .tags
        .unwrap_or_default();
    let mut tags: Vec<(String, String)> = tags
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![("env".into(), "dev".into()), ("team".into(), "blue".into())]
    );
    reads(&bob.sm, "blue/db", "blue/db-value").await;
    // Nor can bob tag another team's secret into his own.
    assert_code(
        bob.sm
            .tag_resource()
            .secret_id("red/db")
            .tags(common::sdk::tag("team", "blue"))
            .send()
            .await,
        "AccessDeniedException",
    );
    denied_read(&bob.sm, "red/db").await;

    // A principal tag change takes effect on the next request.
    root.iam
        .tag_user()
        .user_name("bob")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("red")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("tag_user");
    reads(&bob.sm, "red/db", "red/db-value").await;
    denied_read(&bob.sm, "blue/db").await;

    // A fixed value in the condition (aws:ResourceTag, the global form of the key).
    set_policy(
        &root.iam,
        "bob",
        &json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/env": "dev"}}
            }
        })
        .to_string(),
    )
    .await;
    reads(&bob.sm, "blue/db", "blue/db-value").await;
    denied_read(&bob.sm, "red/db").await;
    denied_read(&bob.sm, "plain").await;
}

// ------------------------------------------------------------------------------------------
// (c) Source IP
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn source_ip_conditions_see_the_callers_address() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    create(&root.sm, "net/db", "v").await;
    let ip_policy = |op: &str, cidr: &str| {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {op: {"aws:SourceIp": cidr}}
            }]
        })
        .to_string()
    };
    let key = user_with_policy(
        &root.iam,
        "netuser",
        Some(&ip_policy("IpAddress", "127.0.0.0/8")),
    )
    .await;
    let user = clients(&srv, &key);
    let me = user_arn(ACCOUNT, "netuser");

    // The tests connect from 127.0.0.1.
    reads(&user.sm, "net/db", "v").await;
    // A range that does not contain the caller grants nothing.
    set_policy(&root.iam, "netuser", &ip_policy("IpAddress", "10.0.0.0/8")).await;
    assert_err(
        user.sm.get_secret_value().secret_id("net/db").send().await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:GetSecretValue", Some("net/db")),
    );
    set_policy(
        &root.iam,
        "netuser",
        &ip_policy("NotIpAddress", "10.0.0.0/8"),
    )
    .await;
    reads(&user.sm, "net/db", "v").await;
    // An IPv6 or single-address form of loopback.
    set_policy(
        &root.iam,
        "netuser",
        &ip_policy("IpAddress", "127.0.0.1/32"),
    )
    .await;
    reads(&user.sm, "net/db", "v").await;

    // AWS's "deny unless from the corporate range" pattern: an explicit deny with
    // NotIpAddress beats the broad allow for a caller outside the range.
    let deny_outside = |cidr: &str| {
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": [cidr, "2001:db8::/32"]}}
                }
            ]
        })
        .to_string()
    };
    set_policy(&root.iam, "netuser", &deny_outside("192.0.2.0/24")).await;
    assert_err(
        user.sm.get_secret_value().secret_id("net/db").send().await,
        "AccessDeniedException",
        &format!(
            "User: {me} is not authorized to perform: secretsmanager:GetSecretValue on \
             resource: net/db with an explicit deny in an identity-based policy"
        ),
    );
    assert_code(user.sm.list_secrets().send().await, "AccessDeniedException");
    set_policy(&root.iam, "netuser", &deny_outside("127.0.0.0/8")).await;
    reads(&user.sm, "net/db", "v").await;
    user.sm.list_secrets().send().await.expect("list_secrets");
}

// ------------------------------------------------------------------------------------------
// (d) Cross-account
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn cross_account_read_through_a_resource_policy() {
    let srv = TestServer::start().await;
    let a = clients(&srv, &Key::root());
    let (b_id, b_secret) = srv.create_account(OTHER_ACCOUNT).await;
    let b_root = clients(&srv, &Key::new(&b_id, &b_secret));
    let who = b_root
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("B's root");
    assert_eq!(who.account(), Some(OTHER_ACCOUNT));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{OTHER_ACCOUNT}:root").as_str())
    );

    // Account B: a user whose own policy allows reading A's secrets, and one with no policy.
    let a_secrets = format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*");
    let reader_key = user_with_policy(
        &b_root.iam,
        "reader",
        Some(&allow(
            &[
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
            ],
            &[&a_secrets],
        )),
    )
    .await;
    let reader = clients(&srv, &reader_key);
    let bare = clients(&srv, &user_with_policy(&b_root.iam, "bare", None).await);
    let reader_arn = user_arn(OTHER_ACCOUNT, "reader");
    let bare_arn = user_arn(OTHER_ACCOUNT, "bare");

    // Account A: one secret shared with both B users by its resource policy, one not shared.
    let (shared, _) = create(&a.sm, "shared/db", "shared-value").await;
    let (private, _) = create(&a.sm, "private/db", "private-value").await;
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": [reader_arn.clone(), bare_arn.clone()]},
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue"
            ],
            "Resource": "*"
        }]
    })
    .to_string();
    a.sm.put_resource_policy()
        .secret_id(&shared)
        .resource_policy(&policy)
        .block_public_policy(true)
        .send()
        .await
        .expect("put_resource_policy");

    // Both policies allow: B's reader sees A's secret by its full ARN.
    let described = reader
        .sm
        .describe_secret()
        .secret_id(&shared)
        .send()
        .await
        .expect("cross-account DescribeSecret");
    assert_eq!(described.arn(), Some(shared.as_str()));
    assert_eq!(described.name(), Some("shared/db"));

    // No resource policy on the secret: denied.
    let msg = assert_code(
        reader.sm.describe_secret().secret_id(&private).send().await,
        "AccessDeniedException",
    );
    assert!(
        msg.starts_with(&format!(
            "User: {reader_arn} is not authorized to perform: secretsmanager:DescribeSecret \
             on resource: {private} because no resource-based policy allows"
        )),
        "{msg}"
    );
    // The resource policy alone is not enough across accounts: B's own policy must allow too.
    let msg = assert_code(
        bare.sm.describe_secret().secret_id(&shared).send().await,
        "AccessDeniedException",
    );
    assert_eq!(
        msg,
        no_identity_policy(&bare_arn, "secretsmanager:DescribeSecret", Some(&shared))
    );
    // B's root is not named by the policy either.
    assert_code(
        b_root.sm.describe_secret().secret_id(&shared).send().await,
        "AccessDeniedException",
    );

    // Allowed by both policies, but the value is sealed under A's default key: AWS's error.
    assert_err(
        reader.sm.get_secret_value().secret_id(&shared).send().await,
        "InvalidRequestException",
        DEFAULT_KEY_CROSS_ACCOUNT,
    );
    assert_err(
        reader
            .sm
            .put_secret_value()
            .secret_id(&shared)
            .secret_string("from B")
            .send()
            .await,
        "InvalidRequestException",
        DEFAULT_KEY_CROSS_ACCOUNT,
    );
    reads(&a.sm, &shared, "shared-value").await;

    // A name is looked up in the caller's own account: B has no such secret.
    assert_code(
        b_root
            .sm
            .describe_secret()
            .secret_id("shared/db")
            .send()
            .await,
        "ResourceNotFoundException",
    );

    // The account id alone as principal stands for the whole account B (its root, and through
    // B's own policies its users and roles).
    let by_account = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": OTHER_ACCOUNT},
            "Action": "secretsmanager:DescribeSecret",
            "Resource": "*"
        }]
    })
    .to_string();
    a.sm.put_resource_policy()
        .secret_id(&private)
        .resource_policy(&by_account)
        .send()
        .await
        .expect("put_resource_policy");
    reader
        .sm
        .describe_secret()
        .secret_id(&private)
        .send()
        .await
        .expect("account principal admits B's user");
    b_root
        .sm
        .describe_secret()
        .secret_id(&private)
        .send()
        .await
        .expect("account principal admits B's root");
    assert_code(
        bare.sm.describe_secret().secret_id(&private).send().await,
        "AccessDeniedException",
    );

    // A role named as principal admits its sessions.
    b_root
        .iam
        .create_role()
        .role_name("b-role")
        .assume_role_policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": reader_arn.clone()},
                    "Action": "sts:AssumeRole"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .expect("create_role");
    b_root
        .iam
        .put_role_policy()
        .role_name("b-role")
        .policy_name("read-a")
        .policy_document(allow(&["secretsmanager:DescribeSecret"], &[&a_secrets]))
        .send()
        .await
        .expect("put_role_policy");
    b_root
        .iam
        .put_user_policy()
        .user_name("reader")
        .policy_name("assume")
        .policy_document(allow(
            &["sts:AssumeRole"],
            &[&format!("arn:aws:iam::{OTHER_ACCOUNT}:role/b-role")],
        ))
        .send()
        .await
        .expect("put_user_policy");
    let session = assume(
        &reader.sts,
        &format!("arn:aws:iam::{OTHER_ACCOUNT}:role/b-role"),
        "b-sess",
    )
    .await;
    let session = clients(&srv, &session);
    assert_code(
        session.sm.describe_secret().secret_id(&shared).send().await,
        "AccessDeniedException",
    );
    a.sm.put_resource_policy()
        .secret_id(&shared)
        .resource_policy(
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:role/b-role")},
                    "Action": "secretsmanager:DescribeSecret",
                    "Resource": "*"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .expect("put_resource_policy");
    session
        .sm
        .describe_secret()
        .secret_id(&shared)
        .send()
        .await
        .expect("a role principal admits the role's sessions");
    assert_code(
        reader.sm.describe_secret().secret_id(&shared).send().await,
        "AccessDeniedException",
    );

    // Removing the resource policy removes the access.
    a.sm.delete_resource_policy()
        .secret_id(&shared)
        .send()
        .await
        .expect("delete_resource_policy");
    assert_code(
        session.sm.describe_secret().secret_id(&shared).send().await,
        "AccessDeniedException",
    );
}

// ------------------------------------------------------------------------------------------
// (e) AssumeRole
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn assume_role_reads_with_temporary_credentials_until_they_expire() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (secret_arn, _) = create(&root.sm, "app/db", "db-password").await;
    create(&root.sm, "app/other", "other").await;

    let alice_arn = user_arn(ACCOUNT, "alice");
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": alice_arn},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string();
    let role = root
        .iam
        .create_role()
        .role_name("app-reader")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .expect("create_role");
    let role_arn = role.role().expect("Role").arn().to_string();
    assert_eq!(role_arn, format!("arn:aws:iam::{ACCOUNT}:role/app-reader"));
    let policy = root
        .iam
        .create_policy()
        .policy_name("read-app-db")
        .policy_document(allow(&["secretsmanager:GetSecretValue"], &[&secret_arn]))
        .send()
        .await
        .expect("create_policy");
    let policy_arn = policy
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    root.iam
        .attach_role_policy()
        .role_name("app-reader")
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("attach_role_policy");

    let alice_key = user_with_policy(
        &root.iam,
        "alice",
        Some(&allow(&["sts:AssumeRole"], &[&role_arn])),
    )
    .await;
    let alice = clients(&srv, &alice_key);
    // alice herself cannot read the secret.
    denied_read(&alice.sm, "app/db").await;

    let assumed = alice
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("deploy-42")
        .duration_seconds(900)
        .send()
        .await
        .expect("assume_role");
    let session_arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/app-reader/deploy-42");
    let user = assumed.assumed_role_user().expect("AssumedRoleUser");
    assert_eq!(user.arn(), session_arn);
    assert!(
        user.assumed_role_id().ends_with(":deploy-42")
            && user.assumed_role_id().starts_with("AROA"),
        "{}",
        user.assumed_role_id()
    );
    let creds = assumed.credentials().expect("Credentials");
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert!(!creds.session_token().is_empty());
    let expires_ms = creds.expiration().to_millis().expect("millis");
    let now_ms = srv.clock.now_millis();
    assert!(
        (expires_ms - (now_ms + 900_000)).abs() <= 1000,
        "expiration {expires_ms} vs now {now_ms}"
    );
    let temp = Key {
        id: creds.access_key_id().into(),
        secret: creds.secret_access_key().into(),
        token: Some(creds.session_token().into()),
    };
    let session = clients(&srv, &temp);

    let who = session
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity");
    assert_eq!(who.arn(), Some(session_arn.as_str()));
    assert_eq!(who.account(), Some(ACCOUNT));
    assert_eq!(who.user_id(), Some(user.assumed_role_id()));

    reads(&session.sm, "app/db", "db-password").await;
    assert_err(
        session
            .sm
            .get_secret_value()
            .secret_id("app/other")
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(
            &session_arn,
            "secretsmanager:GetSecretValue",
            Some("app/other"),
        ),
    );
    // Without its session token the temporary key is not a credential.
    refused_without_token(&srv, &temp, "app/db").await;

    // Still valid one second before expiry.
    srv.clock.advance(899_000);
    reads(&session.sm, "app/db", "db-password").await;
    // Past Expiration by the server's clock: ExpiredToken, in each protocol's shape.
    srv.clock.advance(2_000);
    assert_err(
        session
            .sm
            .get_secret_value()
            .secret_id("app/db")
            .send()
            .await,
        "ExpiredTokenException",
        EXPIRED_TOKEN,
    );
    assert_err(
        session.sts.get_caller_identity().send().await,
        "ExpiredToken",
        EXPIRED_TOKEN,
    );
    assert_err(
        session.iam.list_users().send().await,
        "ExpiredToken",
        EXPIRED_TOKEN,
    );
    // alice's own key is unaffected, and she can start a new session.
    alice
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("deploy-43")
        .send()
        .await
        .expect("a new session");
}

#[tokio::test]
async fn assume_role_is_denied_unless_the_trust_policy_names_the_caller() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": user_arn(ACCOUNT, "alice")},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string();
    root.iam
        .create_role()
        .role_name("alice-only")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .expect("create_role");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/alice-only");
    // mallory may call sts:AssumeRole on any role, but the trust policy does not name her.
    let mallory = clients(
        &srv,
        &user_with_policy(
            &root.iam,
            "mallory",
            Some(&allow(&["sts:AssumeRole"], &["*"])),
        )
        .await,
    );
    let mallory_arn = user_arn(ACCOUNT, "mallory");
    let (code, msg) = service_err(
        mallory
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("probe")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied");
    assert!(
        msg.starts_with(&format!(
            "User: {mallory_arn} is not authorized to perform: sts:AssumeRole on resource: \
             {role_arn}"
        )),
        "{msg}"
    );
    let denied_existing = msg;
    // A role that does not exist is denied the same way (no probing for role names).
    let missing = format!("arn:aws:iam::{ACCOUNT}:role/no-such-role");
    let (code, msg) = service_err(
        mallory
            .sts
            .assume_role()
            .role_arn(&missing)
            .role_session_name("probe")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied");
    assert!(
        msg.contains(&format!("sts:AssumeRole on resource: {missing}")),
        "{msg}"
    );
    assert_eq!(
        msg,
        denied_existing.replace(&role_arn, &missing),
        "the same words as for a role that exists"
    );

    // Naming her in the trust policy (UpdateAssumeRolePolicy) lets her in at once.
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": [user_arn(ACCOUNT, "alice"), mallory_arn]},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string();
    root.iam
        .update_assume_role_policy()
        .role_name("alice-only")
        .policy_document(trust)
        .send()
        .await
        .expect("update_assume_role_policy");
    mallory
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("probe")
        .send()
        .await
        .expect("assume_role after the trust policy names her");
}

// ------------------------------------------------------------------------------------------
// (f) Resource policies and BlockPublicPolicy
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn block_public_policy_and_the_resource_policy_round_trip() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (arn, _) = create(&root.sm, "pub/db", "v").await;
    let public = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*"
        }]
    })
    .to_string();

    // Blocked with the flag, and nothing is stored.
    assert_err(
        root.sm
            .put_resource_policy()
            .secret_id("pub/db")
            .resource_policy(&public)
            .block_public_policy(true)
            .send()
            .await,
        "PublicPolicyException",
        PUBLIC_POLICY,
    );
    let got = root
        .sm
        .get_resource_policy()
        .secret_id("pub/db")
        .send()
        .await
        .expect("get_resource_policy");
    assert_eq!(got.arn(), Some(arn.as_str()));
    assert_eq!(got.name(), Some("pub/db"));
    assert_eq!(got.resource_policy(), None);
    assert!(policy_names(&srv, "pub/db").await.is_empty());

    // ValidateResourcePolicy reports the broad access as a finding.
    let validated = root
        .sm
        .validate_resource_policy()
        .secret_id("pub/db")
        .resource_policy(&public)
        .send()
        .await
        .expect("validate_resource_policy");
    assert!(!validated.policy_validation_passed());
    let findings = validated.validation_errors();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].check_name(), Some("BROAD_ACCESS"));
    assert!(
        findings[0]
            .error_message()
            .is_some_and(|m| m.contains("Statement \"Everyone\"")),
        "{findings:?}"
    );
    // A syntax error is a finding too; malformed JSON is an error.
    let validated = root
        .sm
        .validate_resource_policy()
        .resource_policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("validate_resource_policy");
    assert!(!validated.policy_validation_passed());
    assert_eq!(
        validated.validation_errors()[0].check_name(),
        Some("SYNTAX_CHECKING")
    );
    assert_code(
        root.sm
            .validate_resource_policy()
            .resource_policy("{not json")
            .send()
            .await,
        "MalformedPolicyDocumentException",
    );
    // A policy limited to one account passes and is not blocked.
    let restricted = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}}
        }]
    })
    .to_string();
    let validated = root
        .sm
        .validate_resource_policy()
        .secret_id(&arn)
        .resource_policy(&restricted)
        .send()
        .await
        .expect("validate_resource_policy");
    assert!(validated.policy_validation_passed());
    assert!(validated.validation_errors().is_empty());
    root.sm
        .put_resource_policy()
        .secret_id("pub/db")
        .resource_policy(&restricted)
        .block_public_policy(true)
        .send()
        .await
        .expect("a restricted policy passes BlockPublicPolicy");

    // Without the flag a public policy is stored as given.
    let put = root
        .sm
        .put_resource_policy()
        .secret_id("pub/db")
        .resource_policy(&public)
        .send()
        .await
        .expect("put_resource_policy");
    assert_eq!(put.arn(), Some(arn.as_str()));
    assert_eq!(put.name(), Some("pub/db"));
    let got = root
        .sm
        .get_resource_policy()
        .secret_id(&arn)
        .send()
        .await
        .expect("get_resource_policy");
    assert_eq!(got.resource_policy(), Some(public.as_str()));
    assert_eq!(policy_names(&srv, "pub/db").await, ["default"]);
    // The stored public policy now lets any principal of this account read: a user with no
    // identity policy at all.
    let nobody = clients(&srv, &user_with_policy(&root.iam, "nobody", None).await);
    reads(&nobody.sm, "pub/db", "v").await;

    // secretsmanager:BlockPublicPolicy is a condition key: a user may be allowed to attach
    // policies only with the flag set.
    let guarded = clients(
        &srv,
        &user_with_policy(
            &root.iam,
            "attacher",
            Some(
                &json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": "secretsmanager:PutResourcePolicy",
                        "Resource": "*",
                        "Condition": {"Bool": {"secretsmanager:BlockPublicPolicy": "true"}}
                    }]
                })
                .to_string(),
            ),
        )
        .await,
    );
    assert_err(
        guarded
            .sm
            .put_resource_policy()
            .secret_id("pub/db")
            .resource_policy(&restricted)
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(
            &user_arn(ACCOUNT, "attacher"),
            "secretsmanager:PutResourcePolicy",
            Some("pub/db"),
        ),
    );
    assert_err(
        guarded
            .sm
            .put_resource_policy()
            .secret_id("pub/db")
            .resource_policy(&public)
            .block_public_policy(true)
            .send()
            .await,
        "PublicPolicyException",
        PUBLIC_POLICY,
    );
    guarded
        .sm
        .put_resource_policy()
        .secret_id("pub/db")
        .resource_policy(&restricted)
        .block_public_policy(true)
        .send()
        .await
        .expect("allowed with the flag");
    root.sm
        .put_resource_policy()
        .secret_id("pub/db")
        .resource_policy(&public)
        .send()
        .await
        .expect("put_resource_policy");

    // Delete, and the round trip is back to nothing.
    let deleted = root
        .sm
        .delete_resource_policy()
        .secret_id("pub/db")
        .send()
        .await
        .expect("delete_resource_policy");
    assert_eq!(deleted.arn(), Some(arn.as_str()));
    assert_eq!(deleted.name(), Some("pub/db"));
    let got = root
        .sm
        .get_resource_policy()
        .secret_id("pub/db")
        .send()
        .await
        .expect("get_resource_policy");
    assert_eq!(got.resource_policy(), None);
    assert!(policy_names(&srv, "pub/db").await.is_empty());
    denied_read(&nobody.sm, "pub/db").await;
    // Deleting when there is none succeeds, as on AWS.
    root.sm
        .delete_resource_policy()
        .secret_id("pub/db")
        .send()
        .await
        .expect("delete again");
}

// ------------------------------------------------------------------------------------------
// (g) IAM management
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_and_access_keys_lifecycle() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());

    let created = root
        .iam
        .create_user()
        .user_name("carol")
        .path("/team/")
        .send()
        .await
        .expect("create_user");
    let user = created.user().expect("User");
    assert_eq!(user.user_name(), "carol");
    assert_eq!(user.path(), "/team/");
    assert_eq!(
        user.arn(),
        format!("arn:aws:iam::{ACCOUNT}:user/team/carol")
    );
    assert!(user.user_id().starts_with("AIDA"), "{}", user.user_id());
    let user_id = user.user_id().to_string();

    let got = root
        .iam
        .get_user()
        .user_name("carol")
        .send()
        .await
        .expect("get_user");
    assert_eq!(got.user().map(|u| u.user_id()), Some(user_id.as_str()));
    // The root user, unnamed: as old as its account, not 1970.
    let me = root.iam.get_user().send().await.expect("get_user as root");
    let me = me.user().expect("user");
    assert_eq!(me.arn(), format!("arn:aws:iam::{ACCOUNT}:root"));
    assert!(
        me.create_date().secs() > 1_600_000_000,
        "{:?}",
        me.create_date()
    );
    assert_err(
        root.iam.create_user().user_name("carol").send().await,
        "EntityAlreadyExists",
        "User with name carol already exists.",
    );
    assert_err(
        root.iam.get_user().user_name("nobody").send().await,
        "NoSuchEntity",
        "The user with name nobody cannot be found.",
    );
    for name in ["dave", "erin", "frank"] {
        root.iam
            .create_user()
            .user_name(name)
            .send()
            .await
            .expect("create_user");
    }
    // ListUsers pages with MaxItems / Marker.
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = root
            .iam
            .list_users()
            .max_items(3)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("list_users");
        pages += 1;
        names.extend(page.users().iter().map(|u| u.user_name().to_string()));
        if !page.is_truncated() {
            assert_eq!(page.marker(), None);
            break;
        }
        marker = page.marker().map(str::to_string);
        assert!(marker.is_some());
    }
    names.sort();
    assert_eq!(names, ["carol", "dave", "erin", "frank"]);
    assert_eq!(pages, 2);
    let team = root
        .iam
        .list_users()
        .path_prefix("/team/")
        .send()
        .await
        .expect("list_users");
    assert_eq!(team.users().len(), 1);

    // A key: works at once, shows in ListAccessKeys, blocks DeleteUser.
    let key = access_key(&root.iam, "carol").await;
    let carol = clients(&srv, &key);
    let who = carol
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity");
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:user/team/carol").as_str())
    );
    assert_eq!(who.user_id(), Some(user_id.as_str()));
    let keys = root
        .iam
        .list_access_keys()
        .user_name("carol")
        .send()
        .await
        .expect("list_access_keys");
    let meta = keys.access_key_metadata();
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0].access_key_id(), Some(key.id.as_str()));
    assert_eq!(meta[0].status().map(|s| s.as_str()), Some("Active"));
    assert_err(
        root.iam.delete_user().user_name("carol").send().await,
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
    );

    // Inactive: the key stops working on the next request, in every protocol.
    root.iam
        .update_access_key()
        .user_name("carol")
        .access_key_id(&key.id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .expect("update_access_key");
    assert_err(
        carol.sm.list_secrets().send().await,
        "UnrecognizedClientException",
        INVALID_TOKEN,
    );
    assert_err(
        carol.sts.get_caller_identity().send().await,
        "InvalidClientTokenId",
        INVALID_TOKEN,
    );
    assert_err(
        carol.iam.get_user().send().await,
        "InvalidClientTokenId",
        INVALID_TOKEN,
    );
    let keys = root
        .iam
        .list_access_keys()
        .user_name("carol")
        .send()
        .await
        .expect("list_access_keys");
    assert_eq!(
        keys.access_key_metadata()[0].status().map(|s| s.as_str()),
        Some("Inactive")
    );
    // Active again: works again.
    root.iam
        .update_access_key()
        .user_name("carol")
        .access_key_id(&key.id)
        .status(aws_sdk_iam::types::StatusType::Active)
        .send()
        .await
        .expect("update_access_key");
    carol
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("reactivated key");
    // A user may call GetUser on itself without naming itself... only if a policy allows it.
    assert_code(carol.iam.get_user().send().await, "AccessDenied");

    // Two keys at most.
    let second = access_key(&root.iam, "carol").await;
    assert_err(
        root.iam.create_access_key().user_name("carol").send().await,
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    );
    // Deleted: fails at once; the other key is unaffected.
    root.iam
        .delete_access_key()
        .user_name("carol")
        .access_key_id(&key.id)
        .send()
        .await
        .expect("delete_access_key");
    assert_err(
        carol.sts.get_caller_identity().send().await,
        "InvalidClientTokenId",
        INVALID_TOKEN,
    );
    assert_err(
        carol.sm.list_secrets().send().await,
        "UnrecognizedClientException",
        INVALID_TOKEN,
    );
    clients(&srv, &second)
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("the other key");
    assert_err(
        root.iam
            .delete_access_key()
            .user_name("carol")
            .access_key_id(&key.id)
            .send()
            .await,
        "NoSuchEntity",
        &format!("The Access Key with id {} cannot be found.", key.id),
    );
    root.iam
        .delete_access_key()
        .user_name("carol")
        .access_key_id(&second.id)
        .send()
        .await
        .expect("delete_access_key");

    // Inline policies block deletion too, then the user goes.
    set_policy(
        &root.iam,
        "carol",
        &allow(&["secretsmanager:ListSecrets"], &["*"]),
    )
    .await;
    let inline = root
        .iam
        .get_user_policy()
        .user_name("carol")
        .policy_name("inline")
        .send()
        .await
        .expect("get_user_policy");
    assert_eq!(
        policy_json(inline.policy_document()),
        serde_json::from_str::<Value>(&allow(&["secretsmanager:ListSecrets"], &["*"])).unwrap()
    );
    let listed = root
        .iam
        .list_user_policies()
        .user_name("carol")
        .send()
        .await
        .expect("list_user_policies");
    assert_eq!(listed.policy_names(), ["inline"]);
    assert_err(
        root.iam.delete_user().user_name("carol").send().await,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
    );
    root.iam
        .delete_user_policy()
        .user_name("carol")
        .policy_name("inline")
        .send()
        .await
        .expect("delete_user_policy");
    root.iam
        .delete_user()
        .user_name("carol")
        .send()
        .await
        .expect("delete_user");
    assert_code(
        root.iam.get_user().user_name("carol").send().await,
        "NoSuchEntity",
    );

    // A malformed document is refused with IAM's error.
    let (code, _) = service_err(
        root.iam
            .put_user_policy()
            .user_name("dave")
            .policy_name("bad")
            .policy_document("{\"Version\":\"2012-10-17\"}")
            .send()
            .await,
    );
    assert_eq!(code, "MalformedPolicyDocument");
    assert_code(
        root.iam
            .put_user_policy()
            .user_name("dave")
            .policy_name("bad")
            .policy_document("not json")
            .send()
            .await,
        "MalformedPolicyDocument",
    );
}

#[tokio::test]
async fn managed_policies_versions_and_attachments() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    create(&root.sm, "mp/db", "mp-value").await;
    let v1 = allow(&["secretsmanager:DescribeSecret"], &["*"]);
    let v2 = allow(&["secretsmanager:GetSecretValue"], &["*"]);

    let created = root
        .iam
        .create_policy()
        .policy_name("secrets-policy")
        .description("what the app may do")
        .policy_document(&v1)
        .send()
        .await
        .expect("create_policy");
    let policy = created.policy().expect("Policy");
    let arn = policy.arn().expect("Arn").to_string();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:policy/secrets-policy"));
    assert_eq!(policy.default_version_id(), Some("v1"));
    assert_eq!(policy.attachment_count(), Some(0));
    assert_err(
        root.iam
            .create_policy()
            .policy_name("secrets-policy")
            .policy_document(&v1)
            .send()
            .await,
        "EntityAlreadyExists",
        "A policy called secrets-policy already exists. Duplicate names are not allowed.",
    );

    // Attach to a user and a role.
    let key = user_with_policy(&root.iam, "app", None).await;
    let app = clients(&srv, &key);
    denied_read(&app.sm, "mp/db").await;
    root.iam
        .create_role()
        .role_name("app-role")
        .assume_role_policy_document(
            json!({
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                    "Action": "sts:AssumeRole"
                }
            })
            .to_string(),
        )
        .send()
        .await
        .expect("create_role");
    root.iam
        .attach_user_policy()
        .user_name("app")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach_user_policy");
    root.iam
        .attach_role_policy()
        .role_name("app-role")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach_role_policy");
    let attached = root
        .iam
        .list_attached_user_policies()
        .user_name("app")
        .send()
        .await
        .expect("list_attached_user_policies");
    let pairs: Vec<(Option<&str>, Option<&str>)> = attached
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name(), p.policy_arn()))
        .collect();
    assert_eq!(pairs, [(Some("secrets-policy"), Some(arn.as_str()))]);
    let attached = root
        .iam
        .list_attached_role_policies()
        .role_name("app-role")
        .send()
        .await
        .expect("list_attached_role_policies");
    assert_eq!(attached.attached_policies().len(), 1);
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let got = root
        .iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("get_policy");
    assert_eq!(got.policy().and_then(|p| p.attachment_count()), Some(2));
    assert_eq!(
        got.policy().and_then(|p| p.description()),
        Some("what the app may do")
    );

    // v1 in force: describe yes, read no.
    app.sm
        .describe_secret()
        .secret_id("mp/db")
        .send()
        .await
        .expect("v1 allows DescribeSecret");
    denied_read(&app.sm, "mp/db").await;

    // A new version that is not the default changes nothing; made default, it applies at once.
    let version = root
        .iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&v2)
        .send()
        .await
        .expect("create_policy_version");
    let version = version.policy_version().expect("PolicyVersion");
    assert_eq!(version.version_id(), Some("v2"));
    assert!(!version.is_default_version());
    denied_read(&app.sm, "mp/db").await;
    root.iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&v2)
        .set_as_default(true)
        .send()
        .await
        .expect("create_policy_version");
    reads(&app.sm, "mp/db", "mp-value").await;
    assert_code(
        app.sm.describe_secret().secret_id("mp/db").send().await,
        "AccessDeniedException",
    );
    let got = root
        .iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("get_policy");
    assert_eq!(
        got.policy().and_then(|p| p.default_version_id()),
        Some("v3")
    );
    for (id, doc, default) in [("v1", &v1, false), ("v2", &v2, false), ("v3", &v2, true)] {
        let got = root
            .iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(id)
            .send()
            .await
            .expect("get_policy_version");
        let pv = got.policy_version().expect("PolicyVersion");
        assert_eq!(pv.version_id(), Some(id));
        assert_eq!(pv.is_default_version(), default, "{id}");
        assert_eq!(
            policy_json(pv.document().expect("Document")),
            serde_json::from_str::<Value>(doc).unwrap(),
            "{id}"
        );
    }
    assert_err(
        root.iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id("v9")
            .send()
            .await,
        "NoSuchEntity",
        &format!("Policy {arn} version v9 does not exist or is not attachable."),
    );

    // ListPolicies: local scope holds ours; AWS managed ones page with MaxItems/Marker.
    let local = root
        .iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .expect("list_policies");
    let local: Vec<_> = local.policies().iter().filter_map(|p| p.arn()).collect();
    assert_eq!(local, [arn.as_str()]);
    let only_attached = root
        .iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .expect("list_policies");
    assert_eq!(only_attached.policies().len(), 1);
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = root
            .iam
            .list_policies()
            .max_items(2)
            .set_marker(marker)
            .send()
            .await
            .expect("list_policies");
        assert!(page.policies().len() <= 2);
        seen.extend(
            page.policies()
                .iter()
                .filter_map(|p| p.arn())
                .map(str::to_string),
        );
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_string);
    }
    let all = root
        .iam
        .list_policies()
        .send()
        .await
        .expect("list_policies");
    let all: Vec<String> = all
        .policies()
        .iter()
        .filter_map(|p| p.arn())
        .map(str::to_string)
        .collect();
    assert_eq!(seen, all);
    assert!(all.contains(&arn));

    // Attached: cannot be deleted. Detach both, then delete the extra versions and the policy.
    assert_err(
        root.iam.delete_policy().policy_arn(&arn).send().await,
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
    );
    root.iam
        .detach_user_policy()
        .user_name("app")
        .policy_arn(&arn)
        .send()
        .await
        .expect("detach_user_policy");
    denied_read(&app.sm, "mp/db").await;
    root.iam
        .detach_role_policy()
        .role_name("app-role")
        .policy_arn(&arn)
        .send()
        .await
        .expect("detach_role_policy");
    assert!(
        root.iam
            .list_attached_user_policies()
            .user_name("app")
            .send()
            .await
            .expect("list")
            .attached_policies()
            .is_empty()
    );
    assert!(
        root.iam
            .list_attached_role_policies()
            .role_name("app-role")
            .send()
            .await
            .expect("list")
            .attached_policies()
            .is_empty()
    );
    assert_code(
        root.iam.delete_policy().policy_arn(&arn).send().await,
        "DeleteConflict",
    );
    for id in ["v1", "v2"] {
        root.iam
            .delete_policy_version()
            .policy_arn(&arn)
            .version_id(id)
            .send()
            .await
            .expect("delete_policy_version");
    }
    root.iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("delete_policy");
    assert_err(
        root.iam.get_policy().policy_arn(&arn).send().await,
        "NoSuchEntity",
        &format!("Policy {arn} was not found."),
    );
    // Attaching a policy that does not exist fails.
    assert_code(
        root.iam
            .attach_user_policy()
            .user_name("app")
            .policy_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
    );
}

#[tokio::test]
async fn explicit_deny_beats_allow() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (locked_arn, _) = create(&root.sm, "deny/locked", "locked").await;
    create(&root.sm, "deny/open", "open").await;
    let (guarded_arn, _) = create(&root.sm, "deny/guarded", "guarded").await;

    // Broad allow from a managed policy, a narrow deny inline.
    let full = root
        .iam
        .create_policy()
        .policy_name("full-secrets")
        .policy_document(allow(&["secretsmanager:*"], &["*"]))
        .send()
        .await
        .expect("create_policy");
    let full_arn = full
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    let key = user_with_policy(
        &root.iam,
        "denied",
        Some(
            &json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Deny",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": locked_arn
                }]
            })
            .to_string(),
        ),
    )
    .await;
    root.iam
        .attach_user_policy()
        .user_name("denied")
        .policy_arn(&full_arn)
        .send()
        .await
        .expect("attach_user_policy");
    let user = clients(&srv, &key);
    let me = user_arn(ACCOUNT, "denied");

    reads(&user.sm, "deny/open", "open").await;
    assert_err(
        user.sm
            .get_secret_value()
            .secret_id("deny/locked")
            .send()
            .await,
        "AccessDeniedException",
        &format!(
            "User: {me} is not authorized to perform: secretsmanager:GetSecretValue on \
             resource: deny/locked with an explicit deny in an identity-based policy"
        ),
    );
    // Other actions on the same secret are still allowed.
    user.sm
        .describe_secret()
        .secret_id("deny/locked")
        .send()
        .await
        .expect("describe_secret");

    // A Deny in the secret's resource policy beats the identity allow too, and applies to the
    // account's root as well.
    root.sm
        .put_resource_policy()
        .secret_id(&guarded_arn)
        .resource_policy(
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Deny",
                    "Principal": {"AWS": [me.clone(), format!("arn:aws:iam::{ACCOUNT}:root")]},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .expect("put_resource_policy");
    assert_err(
        user.sm
            .get_secret_value()
            .secret_id("deny/guarded")
            .send()
            .await,
        "AccessDeniedException",
        &format!(
            "User: {me} is not authorized to perform: secretsmanager:GetSecretValue on \
             resource: deny/guarded with an explicit deny in a resource-based policy"
        ),
    );
    assert_code(
        root.sm
            .get_secret_value()
            .secret_id("deny/guarded")
            .send()
            .await,
        "AccessDeniedException",
    );
    // Removing the deny restores the allow.
    root.iam
        .delete_user_policy()
        .user_name("denied")
        .policy_name("inline")
        .send()
        .await
        .expect("delete_user_policy");
    reads(&user.sm, "deny/locked", "locked").await;
}

#[tokio::test]
async fn batch_get_reports_denied_secrets_in_errors() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (a_arn, _) = create(&root.sm, "batch/a", "value-a").await;
    create(&root.sm, "batch/b", "value-b").await;
    let key = user_with_policy(
        &root.iam,
        "batcher",
        Some(
            &json!({
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:BatchGetSecretValue",
                     "Resource": "*"},
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                     "Resource": a_arn}
                ]
            })
            .to_string(),
        ),
    )
    .await;
    let user = clients(&srv, &key);
    let me = user_arn(ACCOUNT, "batcher");

    let out = user
        .sm
        .batch_get_secret_value()
        .secret_id_list("batch/a")
        .secret_id_list("batch/b")
        .send()
        .await
        .expect("batch_get_secret_value");
    let values: Vec<(Option<&str>, Option<&str>)> = out
        .secret_values()
        .iter()
        .map(|v| (v.name(), v.secret_string()))
        .collect();
    assert_eq!(values, [(Some("batch/a"), Some("value-a"))]);
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].secret_id(), Some("batch/b"));
    assert_eq!(errors[0].error_code(), Some("AccessDeniedException"));
    assert_eq!(
        errors[0].message(),
        Some(no_identity_policy(&me, "secretsmanager:GetSecretValue", Some("batch/b")).as_str())
    );

    // Filters also need ListSecrets, which the user lacks: the whole call is denied.
    assert_err(
        user.sm
            .batch_get_secret_value()
            .filters(common::sdk::filter(
                aws_sdk_secretsmanager::types::FilterNameStringType::Name,
                &["batch/"],
            ))
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:ListSecrets", None),
    );
    // Without BatchGetSecretValue itself nothing is read.
    set_policy(
        &root.iam,
        "batcher",
        &allow(&["secretsmanager:GetSecretValue"], &["*"]),
    )
    .await;
    assert_err(
        user.sm
            .batch_get_secret_value()
            .secret_id_list("batch/a")
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(&me, "secretsmanager:BatchGetSecretValue", None),
    );
}

#[tokio::test]
async fn assume_role_rules_roots_chaining_cross_account_and_session_policies() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (x1, _) = create(&root.sm, "sp/x1", "one").await;
    create(&root.sm, "sp/x2", "two").await;
    let account_root = format!("arn:aws:iam::{ACCOUNT}:root");
    let trust = |principal: &str| {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole"
            }]
        })
        .to_string()
    };
    // A role trusting the account: its IAM policies decide who may assume it.
    root.iam
        .create_role()
        .role_name("by-account")
        .assume_role_policy_document(trust(&account_root))
        .send()
        .await
        .expect("create_role");
    root.iam
        .put_role_policy()
        .role_name("by-account")
        .policy_name("read")
        .policy_document(allow(
            &["secretsmanager:GetSecretValue", "sts:AssumeRole"],
            &["*"],
        ))
        .send()
        .await
        .expect("put_role_policy");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/by-account");

    // The account's root may not assume any role, whatever the trust policy says.
    assert_err(
        root.sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("as-root")
            .send()
            .await,
        "AccessDenied",
        "Roles may not be assumed by root accounts.",
    );
    // A user of the account needs its own permission.
    let without = clients(&srv, &user_with_policy(&root.iam, "without", None).await);
    let (code, msg) = service_err(
        without
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("denied")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        msg,
        no_identity_policy(
            &user_arn(ACCOUNT, "without"),
            "sts:AssumeRole",
            Some(&role_arn)
        )
    );
    let with = clients(
        &srv,
        &user_with_policy(
            &root.iam,
            "with",
            Some(&allow(&["sts:AssumeRole"], &[&role_arn])),
        )
        .await,
    );

    // A session policy narrows the role's permissions.
    let out = with
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("narrow")
        .policy(allow(&["secretsmanager:GetSecretValue"], &[&x1]))
        .send()
        .await
        .expect("assume_role with a session policy");
    let c = out.credentials().expect("Credentials");
    let narrow = clients(
        &srv,
        &Key {
            id: c.access_key_id().into(),
            secret: c.secret_access_key().into(),
            token: Some(c.session_token().into()),
        },
    );
    reads(&narrow.sm, "sp/x1", "one").await;
    // The member is bounded by the model: a longer session policy is a ValidationError.
    let long = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\
         \"Action\":\"secretsmanager:GetSecretValue\",\"Resource\":\"{}\"}}]}}",
        "x".repeat(2100)
    );
    let msg = assert_code(
        with.sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("too-long")
            .policy(&long)
            .send()
            .await,
        "ValidationError",
    );
    assert!(
        msg.ends_with(
            "at 'policy' failed to satisfy constraint: Member must have length less than or \
             equal to 2048"
        ),
        "{msg}"
    );
    assert_err(
        narrow.sm.get_secret_value().secret_id("sp/x2").send().await,
        "AccessDeniedException",
        &format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/by-account/narrow is not authorized to \
             perform: secretsmanager:GetSecretValue on resource: sp/x2 because no session \
             policy allows the secretsmanager:GetSecretValue action"
        ),
    );

    // Role chaining: a session assumes another role, for one hour at most.
    let session = clients(&srv, &assume(&with.sts, &role_arn, "first-hop").await);
    reads(&session.sm, "sp/x2", "two").await;
    root.iam
        .create_role()
        .role_name("second")
        .max_session_duration(43_200)
        .assume_role_policy_document(trust(&role_arn))
        .send()
        .await
        .expect("create_role");
    let second_arn = format!("arn:aws:iam::{ACCOUNT}:role/second");
    assert_err(
        session
            .sts
            .assume_role()
            .role_arn(&second_arn)
            .role_session_name("second-hop")
            .duration_seconds(7200)
            .send()
            .await,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by \
         role chaining.",
    );
    let chained = session
        .sts
        .assume_role()
        .role_arn(&second_arn)
        .role_session_name("second-hop")
        .duration_seconds(3600)
        .send()
        .await
        .expect("chained assume_role");
    assert_eq!(
        chained.assumed_role_user().map(|u| u.arn()),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/second/second-hop").as_str())
    );
    // Without chaining the role's own maximum applies.
    assert_err(
        with.sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("too-long")
            .duration_seconds(7200)
            .send()
            .await,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );

    // Cross-account: B's user assumes A's role; the session acts inside account A.
    let (b_id, b_secret) = srv.create_account(OTHER_ACCOUNT).await;
    let b_root = clients(&srv, &Key::new(&b_id, &b_secret));
    root.iam
        .create_role()
        .role_name("for-b")
        .assume_role_policy_document(trust(&user_arn(OTHER_ACCOUNT, "visitor")))
        .send()
        .await
        .expect("create_role");
    root.iam
        .put_role_policy()
        .role_name("for-b")
        .policy_name("read")
        .policy_document(allow(&["secretsmanager:GetSecretValue"], &[&x1]))
        .send()
        .await
        .expect("put_role_policy");
    let for_b = format!("arn:aws:iam::{ACCOUNT}:role/for-b");
    let visitor_key = user_with_policy(&b_root.iam, "visitor", None).await;
    let visitor = clients(&srv, &visitor_key);
    // Across accounts the trust policy is not enough: B must allow it too.
    assert_code(
        visitor
            .sts
            .assume_role()
            .role_arn(&for_b)
            .role_session_name("visit")
            .send()
            .await,
        "AccessDenied",
    );
    set_policy(
        &b_root.iam,
        "visitor",
        &allow(&["sts:AssumeRole"], &[&for_b]),
    )
    .await;
    let visit = clients(&srv, &assume(&visitor.sts, &for_b, "visit").await);
    let who = visit
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity");
    assert_eq!(who.account(), Some(ACCOUNT));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/for-b/visit").as_str())
    );
    // Inside A, by name, and with A's default key.
    reads(&visit.sm, "sp/x1", "one").await;
    denied_read(&visit.sm, "sp/x2").await;
}

#[tokio::test]
async fn permissions_boundary_caps_identity_policies() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    create(&root.sm, "pb/db", "bounded").await;
    let boundary = root
        .iam
        .create_policy()
        .policy_name("describe-only")
        .policy_document(allow(&["secretsmanager:DescribeSecret"], &["*"]))
        .send()
        .await
        .expect("create_policy");
    let boundary_arn = boundary
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    let created = root
        .iam
        .create_user()
        .user_name("bounded")
        .permissions_boundary(&boundary_arn)
        .send()
        .await
        .expect("create_user");
    assert_eq!(
        created
            .user()
            .and_then(|u| u.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary_arn.as_str())
    );
    set_policy(&root.iam, "bounded", &allow(&["secretsmanager:*"], &["*"])).await;
    let user = clients(&srv, &access_key(&root.iam, "bounded").await);
    user.sm
        .describe_secret()
        .secret_id("pb/db")
        .send()
        .await
        .expect("inside the boundary");
    assert_err(
        user.sm.get_secret_value().secret_id("pb/db").send().await,
        "AccessDeniedException",
        &format!(
            "User: {} is not authorized to perform: secretsmanager:GetSecretValue on resource: \
             pb/db because no permissions boundary allows the secretsmanager:GetSecretValue \
             action",
            user_arn(ACCOUNT, "bounded")
        ),
    );
}

// ------------------------------------------------------------------------------------------
// GetSessionToken
// ------------------------------------------------------------------------------------------

/// The temporary key of a GetSessionToken answer, checked for shape and for an expiration
/// `seconds` after the server's now.
fn session_key(
    out: &aws_sdk_sts::operation::get_session_token::GetSessionTokenOutput,
    now_ms: i64,
    seconds: i64,
) -> Key {
    let c = out.credentials().expect("Credentials");
    assert!(
        c.access_key_id().starts_with("ASIA") && c.access_key_id().len() == 20,
        "{}",
        c.access_key_id()
    );
    assert_eq!(c.secret_access_key().len(), 40);
    assert!(!c.session_token().is_empty());
    let expires_ms = c.expiration().to_millis().expect("millis");
    assert!(
        (expires_ms - (now_ms + seconds * 1000)).abs() <= 1000,
        "expiration {expires_ms} vs now {now_ms} + {seconds} s"
    );
    Key {
        id: c.access_key_id().into(),
        secret: c.secret_access_key().into(),
        token: Some(c.session_token().into()),
    }
}

#[tokio::test]
async fn get_session_token_acts_as_the_user_with_the_users_policies() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (db_arn, _) = create(&root.sm, "gst/db", "db-password").await;
    create(&root.sm, "gst/other", "other").await;
    let alice_arn = user_arn(ACCOUNT, "alice");
    let alice_key = user_with_policy(
        &root.iam,
        "alice",
        Some(&allow(&["secretsmanager:GetSecretValue"], &[&db_arn])),
    )
    .await;
    let alice = clients(&srv, &alice_key);
    let alice_id = alice
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity")
        .user_id()
        .expect("UserId")
        .to_string();
    assert!(alice_id.starts_with("AIDA"), "{alice_id}");

    // No IAM permission is needed: alice's policy allows only GetSecretValue.
    let out = alice
        .sts
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .expect("get_session_token");
    let temp = session_key(&out, srv.clock.now_millis(), 900);
    assert_ne!(temp.id, alice_key.id);
    let session = clients(&srv, &temp);

    // The session is alice herself, not an assumed role.
    let who = session
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity with the session");
    assert_eq!(who.arn(), Some(alice_arn.as_str()));
    assert_eq!(who.user_id(), Some(alice_id.as_str()));
    assert_eq!(who.account(), Some(ACCOUNT));

    // alice's policies apply, and a change to them applies to the session at once.
    reads(&session.sm, "gst/db", "db-password").await;
    assert_err(
        session
            .sm
            .get_secret_value()
            .secret_id("gst/other")
            .send()
            .await,
        "AccessDeniedException",
        &no_identity_policy(
            &alice_arn,
            "secretsmanager:GetSecretValue",
            Some("gst/other"),
        ),
    );
    set_policy(
        &root.iam,
        "alice",
        &allow(&["secretsmanager:GetSecretValue"], &["*"]),
    )
    .await;
    reads(&session.sm, "gst/other", "other").await;

    // Only temporary credentials carry aws:MultiFactorAuthPresent (false, without MFA): a
    // Deny on it stops the session and leaves alice's long-term key alone.
    set_policy(
        &root.iam,
        "alice",
        &json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
            ]
        })
        .to_string(),
    )
    .await;
    reads(&alice.sm, "gst/other", "other").await;
    assert_code(
        session
            .sm
            .get_secret_value()
            .secret_id("gst/other")
            .send()
            .await,
        "AccessDeniedException",
    );
    // A session made now carries the keys from its first request, before any reload.
    let fresh = alice
        .sts
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .expect("get_session_token under the MFA deny");
    let fresh = clients(&srv, &session_key(&fresh, srv.clock.now_millis(), 900));
    assert_code(
        fresh
            .sm
            .get_secret_value()
            .secret_id("gst/other")
            .send()
            .await,
        "AccessDeniedException",
    );
    set_policy(
        &root.iam,
        "alice",
        &allow(&["secretsmanager:GetSecretValue"], &["*"]),
    )
    .await;

    // Session credentials cannot make another session, nor call IAM (that needs MFA, which
    // is not supported), and the temporary key is nothing without its token.
    assert_err(
        session.sts.get_session_token().send().await,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    );
    assert_err(
        session.iam.get_user().send().await,
        "InvalidClientTokenId",
        INVALID_TOKEN,
    );
    refused_without_token(&srv, &temp, "gst/db").await;

    // Past Expiration: ExpiredToken; alice's own key still works.
    srv.clock.advance(899_000);
    reads(&session.sm, "gst/db", "db-password").await;
    srv.clock.advance(2_000);
    assert_err(
        session
            .sm
            .get_secret_value()
            .secret_id("gst/db")
            .send()
            .await,
        "ExpiredTokenException",
        EXPIRED_TOKEN,
    );
    assert_err(
        session.sts.get_caller_identity().send().await,
        "ExpiredToken",
        EXPIRED_TOKEN,
    );
    reads(&alice.sm, "gst/db", "db-password").await;

    // The default duration is 12 hours; the range is 900..129600 seconds. MFA members are
    // accepted (their form is checked, the code is not verified).
    let out = alice
        .sts
        .get_session_token()
        .send()
        .await
        .expect("default duration");
    let long = session_key(&out, srv.clock.now_millis(), 43_200);
    let out = alice
        .sts
        .get_session_token()
        .duration_seconds(129_600)
        .serial_number("arn:aws:iam::123456789012:mfa/alice")
        .token_code("123456")
        .send()
        .await
        .expect("longest duration, with MFA members");
    session_key(&out, srv.clock.now_millis(), 129_600);
    for (seconds, bound) in [
        (899, "greater than or equal to 900"),
        (129_601, "less than or equal to 129600"),
    ] {
        assert_err(
            alice
                .sts
                .get_session_token()
                .duration_seconds(seconds)
                .send()
                .await,
            "ValidationError",
            &format!(
                "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to \
                 satisfy constraint: Member must have value {bound}"
            ),
        );
    }
    assert_code(
        alice
            .sts
            .get_session_token()
            .serial_number("arn:aws:iam::123456789012:mfa/alice")
            .token_code("12ab56")
            .send()
            .await,
        "ValidationError",
    );

    // Sessions survive a restart, and go with their user: once alice is deleted, her
    // 12-hour session is an unknown key.
    let dir = srv.stop().await;
    let srv = TestServer::start_in(dir).await;
    let root = clients(&srv, &Key::root());
    let long_session = clients(&srv, &long);
    reads(&long_session.sm, "gst/db", "db-password").await;
    root.iam
        .delete_user_policy()
        .user_name("alice")
        .policy_name("inline")
        .send()
        .await
        .expect("delete_user_policy");
    root.iam
        .delete_access_key()
        .user_name("alice")
        .access_key_id(&alice_key.id)
        .send()
        .await
        .expect("delete_access_key");
    root.iam
        .delete_user()
        .user_name("alice")
        .send()
        .await
        .expect("delete_user");
    assert_code(
        long_session
            .sm
            .get_secret_value()
            .secret_id("gst/db")
            .send()
            .await,
        "UnrecognizedClientException",
    );
}

#[tokio::test]
async fn get_session_token_for_root_and_refused_to_role_sessions() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    create(&root.sm, "gst/root", "root-value").await;
    let account_root = format!("arn:aws:iam::{ACCOUNT}:root");

    // Root may ask; its sessions last at most an hour, however long it asks for.
    let out = root
        .sts
        .get_session_token()
        .duration_seconds(7200)
        .send()
        .await
        .expect("root get_session_token");
    let root_session = session_key(&out, srv.clock.now_millis(), 3600);
    let out = root
        .sts
        .get_session_token()
        .send()
        .await
        .expect("root default duration");
    session_key(&out, srv.clock.now_millis(), 3600);
    let session = clients(&srv, &root_session);
    let who = session
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("get_caller_identity");
    assert_eq!(who.arn(), Some(account_root.as_str()));
    assert_eq!(who.user_id(), Some(ACCOUNT));
    reads(&session.sm, "gst/root", "root-value").await;
    assert_err(
        session.sts.get_session_token().send().await,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    );

    // A role session is session credentials too.
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": account_root}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    root.iam
        .create_role()
        .role_name("gst-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("create_role");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/gst-role");
    let bob = clients(
        &srv,
        &user_with_policy(
            &root.iam,
            "bob",
            Some(&allow(&["sts:AssumeRole"], &[&role_arn])),
        )
        .await,
    );
    let role_session = clients(&srv, &assume(&bob.sts, &role_arn, "s1").await);
    assert_err(
        role_session.sts.get_session_token().send().await,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    );
}

// ------------------------------------------------------------------------------------------
// Presigned (query-string) SigV4
// ------------------------------------------------------------------------------------------

/// A request presigned with the official `aws-sigv4` crate (`SignatureLocation::QueryParams`),
/// as botocore's `generate_presigned_url` and EKS token generators make them: the path and
/// query to send and the headers to send with them.
#[allow(clippy::too_many_arguments)]
fn presign(
    srv: &TestServer,
    key: &Key,
    service: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    expires_secs: u64,
) -> (String, http::HeaderMap) {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    use aws_smithy_runtime_api::client::identity::Identity;

    let identity: Identity = key.credentials().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(std::time::Duration::from_secs(expires_secs));
    let signing_time =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(srv.clock.now_millis() as u64);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(signing_time)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let host = srv.addr.to_string();
    let uri = format!("http://{host}{path_and_query}");
    let mut all: Vec<(&str, &str)> = vec![("host", &host)];
    all.extend_from_slice(headers);
    let signable =
        SignableRequest::new(method, &uri, all.iter().copied(), SignableBody::Bytes(body))
            .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut request = http::Request::builder().method(method).uri(&uri);
    for (name, value) in &all {
        request = request.header(*name, *value);
    }
    let mut request = request.body(()).expect("request");
    instructions.apply_to_request_http1x(&mut request);
    let path = request
        .uri()
        .path_and_query()
        .expect("path and query")
        .to_string();
    (path, request.headers().clone())
}

/// The (unescaped) text of one XML element of a response body.
fn xml_text(body: &[u8], element: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let open = format!("<{element}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{element}>"))? + start;
    Some(
        text[start..end]
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn presigned_get_caller_identity_and_secrets_manager_post() {
    let srv = TestServer::start().await;
    let root = clients(&srv, &Key::root());
    let (db_arn, _) = create(&root.sm, "presign/db", "db-password").await;
    create(&root.sm, "presign/other", "other").await;
    let alice_arn = user_arn(ACCOUNT, "alice");
    let alice = user_with_policy(
        &root.iam,
        "alice",
        Some(&allow(&["secretsmanager:GetSecretValue"], &[&db_arn])),
    )
    .await;
    const GCI: &str = "/?Action=GetCallerIdentity&Version=2011-06-15";
    let eks = [("x-k8s-aws-id", "my-cluster")];

    // The EKS token: GetCallerIdentity presigned with a signed x-k8s-aws-id header.
    let (path, headers) = presign(&srv, &alice, "sts", "GET", GCI, &eks, b"", 60);
    assert!(
        path.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"),
        "{path}"
    );
    let r = srv.send("GET", &path, &headers, b"").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        xml_text(&r.body, "Arn").as_deref(),
        Some(alice_arn.as_str())
    );
    assert_eq!(xml_text(&r.body, "Account").as_deref(), Some(ACCOUNT));
    // The same URL works again until it expires: presigned URLs are not single-use.
    let r = srv.send("GET", &path, &headers, b"").await;
    assert_eq!(r.status, 200);

    // Someone who changes the signed header, the action or the query gets nowhere.
    let mut other_cluster = headers.clone();
    other_cluster.insert("x-k8s-aws-id", "other-cluster".parse().unwrap());
    let tampered_action = path.replace("GetCallerIdentity", "GetSessionToken");
    let extra_param = format!("{path}&DurationSeconds=900");
    for (path, headers) in [
        (path.as_str(), &other_cluster),
        (tampered_action.as_str(), &headers),
        (extra_param.as_str(), &headers),
    ] {
        let r = srv.send("GET", path, headers, b"").await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(
            xml_text(&r.body, "Code").as_deref(),
            Some("SignatureDoesNotMatch")
        );
    }
    // A missing parameter.
    let no_signature = path
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Signature="))
        .collect::<Vec<_>>()
        .join("&");
    let r = srv.send("GET", &no_signature, &headers, b"").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        xml_text(&r.body, "Message").as_deref(),
        Some(
            "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the \
             query-string parameters."
        )
    );

    // Once signing time + X-Amz-Expires has passed, the URL is refused.
    srv.clock.advance(61_000);
    let r = srv.send("GET", &path, &headers, b"").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        xml_text(&r.body, "Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
    let message = xml_text(&r.body, "Message").unwrap_or_default();
    assert!(
        message.starts_with("Signature expired: ") && message.ends_with(" - 60 sec.)"),
        "{message}"
    );

    // GetSessionToken's credentials presign too (the token rides in the query), and are
    // still alice.
    let out = clients(&srv, &alice)
        .sts
        .get_session_token()
        .send()
        .await
        .expect("get_session_token");
    let session = session_key(&out, srv.clock.now_millis(), 43_200);
    let (path, headers) = presign(&srv, &session, "sts", "GET", GCI, &eks, b"", 900);
    assert!(path.contains("X-Amz-Security-Token="), "{path}");
    let r = srv.send("GET", &path, &headers, b"").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        xml_text(&r.body, "Arn").as_deref(),
        Some(alice_arn.as_str())
    );

    // A Secrets Manager JSON POST with query authentication, alice's policy applying.
    let json_headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "secretsmanager.GetSecretValue"),
    ];
    let body = br#"{"SecretId":"presign/db"}"#;
    let (path, headers) = presign(
        &srv,
        &alice,
        "secretsmanager",
        "POST",
        "/",
        &json_headers,
        body,
        300,
    );
    let r = srv.send("POST", &path, &headers, body).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["SecretString"], "db-password");
    // The signature covers the body: the same URL with another body is refused.
    let r = srv
        .send("POST", &path, &headers, br#"{"SecretId":"presign/other"}"#)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "InvalidSignatureException");
    let body = br#"{"SecretId":"presign/other"}"#;
    let (path, headers) = presign(
        &srv,
        &alice,
        "secretsmanager",
        "POST",
        "/",
        &json_headers,
        body,
        300,
    );
    let r = srv.send("POST", &path, &headers, body).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "AccessDeniedException");

    // The audit log records the calls without the authentication parameters or the token.
    let lookup = |body: Value| {
        let signing = common::Signing {
            service: "cloudtrail",
            ..common::Signing::default()
        };
        let srv = &srv;
        async move {
            srv.raw_with(
                Some("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"),
                body.to_string().as_bytes(),
                &signing,
            )
            .await
        }
    };
    let r = lookup(json!({
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}],
        "MaxResults": 50
    }))
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let events = r.json()["Events"].as_array().cloned().unwrap_or_default();
    let records: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect();
    let token = session.token.clone().unwrap_or_default();
    // Two good calls, two tampered, one incomplete, one expired, one with the session.
    assert_eq!(records.len(), 7, "{records:?}");
    for record in &records {
        // GetCallerIdentity has no parameters of its own: the X-Amz-* ones are not recorded.
        assert_eq!(record["requestParameters"], Value::Null, "{record}");
        assert!(!record.to_string().contains(&token[..40]), "{record}");
    }
    // The expired call is recorded with the access key its query claimed.
    assert!(
        records
            .iter()
            .any(|r| r["errorCode"] == "SignatureDoesNotMatch"
                && r["userIdentity"]["accessKeyId"] == alice.id.as_str()),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["userIdentity"]["accessKeyId"] == session.id.as_str()
                && r["userIdentity"]["type"] == "IAMUser"
                && r["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"]
                    == "false"),
        "{records:?}"
    );
}

/// Runs the `strongbox` binary; its stdout, or a panic with its stderr.
fn strongbox_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strongbox"))
        .args(args)
        .output()
        .expect("run strongbox");
    assert!(
        out.status.success(),
        "strongbox {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn identities_made_offline_reach_a_running_server_on_its_next_refresh() {
    let srv = TestServer::start().await;
    let dir = srv.dir.path().to_str().unwrap().to_string();
    strongbox_cli(&[
        "user",
        "create",
        "--data-dir",
        &dir,
        "--user-name",
        "offline",
    ]);
    let printed = strongbox_cli(&[
        "access-key",
        "create",
        "--data-dir",
        &dir,
        "--user-name",
        "offline",
    ]);
    let value = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("{name} in {printed}"))
            .to_string()
    };
    let (id, secret) = (value("aws_access_key_id"), value("aws_secret_access_key"));
    let offline = srv.client_with("us-east-1", &id, &secret);
    // Unknown until the server looks at the store again...
    assert_code(
        offline.list_secrets().send().await,
        "UnrecognizedClientException",
    );
    assert!(srv.frontend.iam.refresh_if_changed().await.unwrap());
    // ...then a valid key of a user without policies, and nothing more to reload.
    assert_code(offline.list_secrets().send().await, "AccessDeniedException");
    assert!(!srv.frontend.iam.refresh_if_changed().await.unwrap());
}

#[test]
fn offline_administration_refuses_a_directory_that_serve_never_made() {
    let parent = tempfile::tempdir().unwrap();
    let typo = parent.path().join("strongbox-dta");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strongbox"))
        .args(["user", "create", "--user-name", "app", "--data-dir"])
        .arg(&typo)
        .env_remove("STRONGBOX_ROOT_KEY")
        .env_remove("STRONGBOX_ROOT_KEY_FILE")
        .output()
        .expect("run strongbox");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not a Strongbox data directory"),
        "stderr: {stderr}"
    );
    assert!(!typo.exists(), "no directory (and no root key) was created");
}
