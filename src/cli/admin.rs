//! Offline administration: `strongbox account|user|access-key|role|policy ...` on a data
//! directory, through the same IAM service code the Query API runs, acting as each account's
//! root. Changes reach a running server when it next starts; while it runs, use `aws iam`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::RequestContext;
use crate::auth::Caller;
use crate::clock::{Clock, SystemClock};
use crate::crypto::Keyring;
use crate::iam::{IamService, Params, QueryError, QueryService};
use crate::server::DataDir;

/// Where and as which account offline commands act.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// Data directory.
    #[arg(long, env = "STRONGBOX_DATA_DIR", default_value = "./strongbox-data")]
    data_dir: PathBuf,
    /// The account to act in (default: the data directory's first account).
    #[arg(long)]
    account_id: Option<String>,
    #[command(flatten)]
    root_key: super::RootKeyArgs,
}

/// `strongbox account ...`
#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account and an access key for its root user.
    Create {
        #[command(flatten)]
        target: Target,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        target: Target,
    },
}

/// `strongbox user ...`
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an IAM user.
    Create {
        #[command(flatten)]
        target: Target,
        /// The user's name.
        #[arg(long)]
        user_name: String,
        /// The user's path.
        #[arg(long)]
        path: Option<String>,
    },
}

/// `strongbox access-key ...`
#[derive(Debug, clap::Subcommand)]
pub enum AccessKeyCommand {
    /// Create an access key for a user, or with no --user-name for the account's root.
    Create {
        #[command(flatten)]
        target: Target,
        /// The user the key is for.
        #[arg(long)]
        user_name: Option<String>,
    },
}

/// `strongbox role ...`
#[derive(Debug, clap::Subcommand)]
pub enum RoleCommand {
    /// Create a role with a trust policy from a file.
    Create {
        #[command(flatten)]
        target: Target,
        /// The role's name.
        #[arg(long)]
        role_name: String,
        /// File holding the trust policy (JSON).
        #[arg(long)]
        trust_policy_file: PathBuf,
    },
}

/// `strongbox policy ...`
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Create (or update, as a new default version) a managed policy from a file and attach it
    /// to a user or a role.
    Attach {
        #[command(flatten)]
        target: Target,
        /// The policy's name.
        #[arg(long)]
        policy_name: String,
        /// File holding the policy document (JSON).
        #[arg(long)]
        policy_file: PathBuf,
        /// Attach to this user.
        #[arg(
            long,
            conflicts_with = "role_name",
            required_unless_present = "role_name"
        )]
        user_name: Option<String>,
        /// Attach to this role.
        #[arg(long)]
        role_name: Option<String>,
    },
}

/// An opened data directory with its IAM service.
struct Admin {
    iam: IamService,
    primary: String,
    clock: Arc<dyn Clock>,
}

impl Admin {
    async fn open(target: &Target) -> Result<Self, String> {
        // `serve` creates a data directory; administration only opens one. Creating it here
        // would turn a mistyped `--data-dir` into a new, empty directory with a new root key.
        let database = target.data_dir.join(crate::server::DATABASE_FILE);
        let present = database
            .try_exists()
            .map_err(|e| format!("{}: {e}", target.data_dir.display()))?;
        if !present {
            return Err(format!(
                "{} is not a Strongbox data directory (no {}); start `strongbox serve --data-dir {}` once to create it",
                target.data_dir.display(),
                crate::server::DATABASE_FILE,
                target.data_dir.display()
            ));
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let source = target.root_key.source()?;
        let (dir, root) = DataDir::open(&target.data_dir, None, &source, clock.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        let keyring = Arc::new(Keyring::new(root, dir.store.clone()));
        let iam = IamService::open(
            dir.store.clone(),
            keyring,
            clock.clone(),
            &dir.account_id,
            Vec::new(),
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok(Self {
            iam,
            primary: dir.account_id,
            clock,
        })
    }

    /// A request context acting as `account`'s root.
    fn root_context(&self, account: &str) -> RequestContext {
        RequestContext {
            caller: Caller::root(account, "offline-admin"),
            region: "us-east-1".into(),
            request_id: uuid::Uuid::new_v4().to_string(),
            now: self.clock.now_millis(),
            source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            secure_transport: true,
            user_agent: Some("strongbox-cli".into()),
        }
    }

    async fn account(&self, target: &Target) -> Result<String, String> {
        let account = target.account_id.clone().unwrap_or(self.primary.clone());
        if !self
            .iam
            .accounts()
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .any(|a| a.account_id == account)
        {
            return Err(format!("no account {account} in this data directory"));
        }
        Ok(account)
    }

    async fn call(
        &self,
        account: &str,
        action: &str,
        params: Vec<(&str, String)>,
    ) -> Result<String, String> {
        let ctx = self.root_context(account);
        let mut pairs: Vec<(String, String)> = vec![("Action".into(), action.into())];
        pairs.extend(params.into_iter().map(|(k, v)| (k.to_string(), v)));
        self.iam
            .call(&ctx, QueryService::Iam, action, &Params::from_pairs(pairs))
            .await
            .map(Option::unwrap_or_default)
            .map_err(|e: QueryError| format!("{}: {}", e.code, e.message))
    }
}

/// The text of the first `<name>` element in an IAM result.
fn field(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(text, _)| {
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .unwrap_or_default()
}

fn print_key(profile: &str, account: &str, id: &str, secret: &str) {
    println!(
        "# Access key for {profile} in account {account}. Shown once; keep it private.\n\
         [{profile}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}"
    );
}

fn run<F, Fut>(f: F) -> std::process::ExitCode
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("strongbox: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(f()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strongbox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `strongbox account ...`.
pub fn account(cmd: AccountCommand) -> std::process::ExitCode {
    run(|| async move {
        match cmd {
            AccountCommand::Create { target } => {
                let admin = Admin::open(&target).await?;
                let account = match target.account_id {
                    Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => id,
                    Some(id) => return Err(format!("--account-id must be 12 digits, not '{id}'")),
                    None => crate::crypto::random_string(b"0123456789", 12)
                        .map_err(|e| e.to_string())?,
                };
                if !admin
                    .iam
                    .ensure_account(&account)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    return Err(format!("account {account} already exists"));
                }
                let (id, secret, _) = admin
                    .iam
                    .create_access_key_for(&account, &format!("arn:aws:iam::{account}:root"))
                    .await
                    .map_err(|e| e.message)?;
                print_key(
                    &format!("strongbox-{account}"),
                    &account,
                    &id,
                    secret.expose(),
                );
                Ok(())
            }
            AccountCommand::List { target } => {
                let admin = Admin::open(&target).await?;
                for a in admin.iam.accounts().await.map_err(|e| e.to_string())? {
                    println!("{}", a.account_id);
                }
                Ok(())
            }
        }
    })
}

/// Runs `strongbox user ...`.
pub fn user(cmd: UserCommand) -> std::process::ExitCode {
    run(|| async move {
        let UserCommand::Create {
            target,
            user_name,
            path,
        } = cmd;
        let admin = Admin::open(&target).await?;
        let account = admin.account(&target).await?;
        let mut params = vec![("UserName", user_name)];
        if let Some(p) = path {
            params.push(("Path", p));
        }
        let xml = admin.call(&account, "CreateUser", params).await?;
        println!("{}", field(&xml, "Arn"));
        Ok(())
    })
}

/// Runs `strongbox access-key ...`.
pub fn access_key(cmd: AccessKeyCommand) -> std::process::ExitCode {
    run(|| async move {
        let AccessKeyCommand::Create { target, user_name } = cmd;
        let admin = Admin::open(&target).await?;
        let account = admin.account(&target).await?;
        let params = user_name.iter().map(|u| ("UserName", u.clone())).collect();
        let xml = admin.call(&account, "CreateAccessKey", params).await?;
        let profile = match &user_name {
            Some(u) => format!("strongbox-{account}-{u}"),
            None => format!("strongbox-{account}"),
        };
        print_key(
            &profile,
            &account,
            &field(&xml, "AccessKeyId"),
            &field(&xml, "SecretAccessKey"),
        );
        Ok(())
    })
}

/// Runs `strongbox role ...`.
pub fn role(cmd: RoleCommand) -> std::process::ExitCode {
    run(|| async move {
        let RoleCommand::Create {
            target,
            role_name,
            trust_policy_file,
        } = cmd;
        let admin = Admin::open(&target).await?;
        let account = admin.account(&target).await?;
        let trust = read_file(&trust_policy_file)?;
        let xml = admin
            .call(
                &account,
                "CreateRole",
                vec![("RoleName", role_name), ("AssumeRolePolicyDocument", trust)],
            )
            .await?;
        println!("{}", field(&xml, "Arn"));
        Ok(())
    })
}

/// Runs `strongbox policy ...`.
pub fn policy(cmd: PolicyCommand) -> std::process::ExitCode {
    run(|| async move {
        let PolicyCommand::Attach {
            target,
            policy_name,
            policy_file,
            user_name,
            role_name,
        } = cmd;
        let admin = Admin::open(&target).await?;
        let account = admin.account(&target).await?;
        let document = read_file(&policy_file)?;
        let arn = match admin
            .call(
                &account,
                "CreatePolicy",
                vec![
                    ("PolicyName", policy_name.clone()),
                    ("PolicyDocument", document.clone()),
                ],
            )
            .await
        {
            Ok(xml) => field(&xml, "Arn"),
            Err(e) if e.starts_with("EntityAlreadyExists") => {
                // Update: the file becomes the new default version.
                let arn = format!("arn:aws:iam::{account}:policy/{policy_name}");
                admin
                    .call(
                        &account,
                        "CreatePolicyVersion",
                        vec![
                            ("PolicyArn", arn.clone()),
                            ("PolicyDocument", document),
                            ("SetAsDefault", "true".into()),
                        ],
                    )
                    .await?;
                arn
            }
            Err(e) => return Err(e),
        };
        let (action, param, name) = match (user_name, role_name) {
            (Some(u), _) => ("AttachUserPolicy", "UserName", u),
            (None, Some(r)) => ("AttachRolePolicy", "RoleName", r),
            (None, None) => return Err("give --user-name or --role-name".into()),
        };
        admin
            .call(
                &account,
                action,
                vec![(param, name), ("PolicyArn", arn.clone())],
            )
            .await?;
        println!("{arn}");
        Ok(())
    })
}
