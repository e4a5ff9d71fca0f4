//! Managed policies (customer and AWS managed), their versions, and the inline and attached
//! policies of users and roles.

use super::builtin;
use super::model::{
    ManagedPolicyDoc, PolicyVersionDoc, RoleDoc, UserDoc, check_path, iam_arn, kind, name_key,
    parse_iam_arn,
};
use super::query::{QueryError, Xml, check_duplicate_tag_keys, encode_policy_document, timestamp};
use super::{
    IamService, Owner, Params, object, paginate, parse_policy, store_error, write_truncation,
};
use crate::api::RequestContext;
use crate::policy::PolicyKind;
use crate::store::{IamChange, StoreError};

/// AWS's quota of versions per managed policy.
const MAX_POLICY_VERSIONS: usize = 5;
/// AWS's quota of managed policies attached to one user or role.
const MAX_ATTACHED: usize = 10;
/// Longest managed policy document (characters, whitespace not counted).
const MANAGED_POLICY_SIZE: usize = 6144;

/// A user or a role, loaded for a policy change.
enum Holder {
    User(UserDoc),
    Role(RoleDoc),
}

impl Holder {
    fn inline(&mut self) -> &mut std::collections::BTreeMap<String, String> {
        match self {
            Self::User(u) => &mut u.inline,
            Self::Role(r) => &mut r.inline,
        }
    }

    fn attached(&mut self) -> &mut Vec<String> {
        match self {
            Self::User(u) => &mut u.attached,
            Self::Role(r) => &mut r.attached,
        }
    }

    fn name(&self) -> &str {
        match self {
            Self::User(u) => &u.name,
            Self::Role(r) => &r.name,
        }
    }
}

impl Owner {
    fn name_param(self) -> &'static str {
        match self {
            Self::User => "UserName",
            Self::Role => "RoleName",
        }
    }

    fn action(self, verb: &str) -> String {
        match self {
            Self::User => format!("iam:{verb}UserPolicy"),
            Self::Role => format!("iam:{verb}RolePolicy"),
        }
    }

    fn attached_action(self, verb: &str) -> String {
        match self {
            Self::User => format!("iam:{verb}UserPolicies"),
            Self::Role => format!("iam:{verb}RolePolicies"),
        }
    }

    /// IAM's inline policy size quota for this kind of principal.
    fn inline_limit(self) -> (&'static str, usize) {
        match self {
            Self::User => ("UserPolicySize", 2048),
            Self::Role => ("RolePolicySize", 10240),
        }
    }
}

/// `<Policy>` fields shared by CreatePolicy, GetPolicy and ListPolicies.
struct PolicyView<'a> {
    name: &'a str,
    id: &'a str,
    arn: &'a str,
    path: &'a str,
    default_version: &'a str,
    attachments: usize,
    created_ms: i64,
    updated_ms: i64,
    description: Option<&'a str>,
    tags: Option<&'a [crate::model::Tag]>,
}

fn write_policy(x: &mut Xml, v: &PolicyView<'_>) {
    x.text("PolicyName", v.name)
        .text("PolicyId", v.id)
        .text("Arn", v.arn)
        .text("Path", v.path)
        .text("DefaultVersionId", v.default_version)
        .text("AttachmentCount", &v.attachments.to_string())
        .text("PermissionsBoundaryUsageCount", "0")
        .bool("IsAttachable", true)
        .opt("Description", v.description)
        .text("CreateDate", &timestamp(v.created_ms))
        .text("UpdateDate", &timestamp(v.updated_ms));
    if let Some(tags) = v.tags {
        x.tags("Tags", tags);
    }
}

fn customer_view<'a>(p: &'a ManagedPolicyDoc, attachments: usize) -> PolicyView<'a> {
    PolicyView {
        name: &p.name,
        id: &p.policy_id,
        arn: &p.arn,
        path: &p.path,
        default_version: &p.default_version,
        attachments,
        created_ms: p.created_ms,
        updated_ms: p.updated_ms,
        description: p.description.as_deref(),
        tags: None,
    }
}

fn aws_view<'a>(
    p: &'static builtin::AwsManaged,
    arn: &'a str,
    attachments: usize,
) -> PolicyView<'a> {
    PolicyView {
        name: p.name,
        id: "ANPAAWSMANAGEDPOLICY0",
        arn,
        path: "/",
        default_version: "v1",
        attachments,
        created_ms: 0,
        updated_ms: 0,
        description: Some(p.description),
        tags: None,
    }
}

/// AWS's text for a missing policy.
fn policy_not_found(arn: &str) -> QueryError {
    QueryError::no_such_entity(format!("Policy {arn} was not found."))
}

/// AWS's text for a missing version of a policy.
fn no_such_version(arn: &str, version_id: &str) -> QueryError {
    QueryError::no_such_entity(format!(
        "Policy {arn} version {version_id} does not exist or is not attachable."
    ))
}

/// Checks a policy ARN's shape with IAM's error for the policy operations (GetPolicy,
/// DeletePolicy, the version calls, Detach*).
fn check_policy_arn(arn: &str) -> Result<(), QueryError> {
    if parse_iam_arn(arn, "policy").is_none() {
        return Err(QueryError::validation("Invalid ARN:  Could not be parsed!"));
    }
    Ok(())
}

/// A `VersionId` from the request, checked against IAM's pattern `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`.
fn version_id_param(p: &Params) -> Result<&str, QueryError> {
    let id = p.required("VersionId")?;
    let valid = id.strip_prefix('v').is_some_and(|rest| {
        let (number, suffix) = rest.split_once('.').unwrap_or((rest, ""));
        number.starts_with(|c: char| ('1'..='9').contains(&c))
            && number.bytes().all(|b| b.is_ascii_digit())
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !valid {
        return Err(QueryError::validation(
            "1 validation error detected: Value at 'versionId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ));
    }
    Ok(id)
}

/// A missing policy, as the version operations report it: the version named is what does not
/// exist.
fn as_missing_version(e: QueryError, p: &Params, version_id: &str) -> QueryError {
    match p.get("PolicyArn") {
        Some(arn) if e.code == "NoSuchEntity" => no_such_version(arn, version_id),
        _ => e,
    }
}

impl IamService {
    /// The customer managed policy with `arn` in `account`.
    async fn customer_policy(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<Option<ManagedPolicyDoc>, QueryError> {
        let Some((owner, _, name)) = parse_iam_arn(arn, "policy") else {
            return Ok(None);
        };
        if owner != account {
            return Ok(None);
        }
        let policy: Option<ManagedPolicyDoc> =
            self.load(account, kind::POLICY, &name_key(name)).await?;
        Ok(policy.filter(|p| p.arn == arn))
    }

    /// Whether `arn` names a policy that can be attached in `account`: a customer managed
    /// policy there, or an AWS managed one.
    async fn is_attachable(&self, account: &str, arn: &str) -> Result<bool, QueryError> {
        Ok(builtin::by_arn(arn).is_some() || self.customer_policy(account, arn).await?.is_some())
    }

    /// Checks that `arn` names an attachable policy and returns it, in Attach*'s words (a
    /// malformed ARN is a ValidationError, as recorded from AWS).
    pub(super) async fn require_attachable(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<String, QueryError> {
        if parse_iam_arn(arn, "policy").is_none() {
            return Err(QueryError::validation(format!("ARN {arn} is not valid.")));
        }
        if !self.is_attachable(account, arn).await? {
            return Err(QueryError::no_such_entity(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
        Ok(arn.to_string())
    }

    /// The same check for a permissions boundary, in IAM's words for one.
    pub(super) async fn require_boundary(
        &self,
        account: &str,
        arn: &str,
    ) -> Result<String, QueryError> {
        if parse_iam_arn(arn, "policy").is_none() {
            return Err(QueryError::invalid_input(format!(
                "ARN {arn} is not valid."
            )));
        }
        if !self.is_attachable(account, arn).await? {
            return Err(QueryError::no_such_entity(format!(
                "Scope ARN: {arn} does not exist or is not attachable."
            )));
        }
        Ok(arn.to_string())
    }

    /// How many users and roles in `account` have `arn` attached.
    async fn attachment_count(&self, account: &str, arn: &str) -> Result<usize, QueryError> {
        let users: Vec<UserDoc> = self.load_all(account, kind::USER).await?;
        let roles: Vec<RoleDoc> = self.load_all(account, kind::ROLE).await?;
        Ok(users
            .iter()
            .filter(|u| u.attached.iter().any(|a| a == arn))
            .count()
            + roles
                .iter()
                .filter(|r| r.attached.iter().any(|a| a == arn))
                .count())
    }

    async fn holder(
        &self,
        ctx: &RequestContext,
        owner: Owner,
        action: &str,
        p: &Params,
    ) -> Result<Holder, QueryError> {
        let name = p.required(owner.name_param())?;
        Ok(match owner {
            Owner::User => Holder::User(self.authorized_user(ctx, action, name).await?),
            Owner::Role => Holder::Role(self.authorized_role(ctx, action, name).await?),
        })
    }

    async fn save_holder(&self, account: &str, holder: &Holder) -> Result<(), QueryError> {
        match holder {
            Holder::User(u) => self.save_user(account, u).await,
            Holder::Role(r) => self.save_role(account, r).await,
        }
    }

    pub(super) async fn put_inline(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let policy_name = p.required("PolicyName")?;
        super::model::check_name("policyName", policy_name, 128)?;
        let document = p.required("PolicyDocument")?;
        let mut holder = self.holder(ctx, owner, &owner.action("Put"), p).await?;
        let (quota, limit) = owner.inline_limit();
        parse_policy(document, PolicyKind::Identity, quota, limit)?;
        holder
            .inline()
            .insert(policy_name.to_string(), document.to_string());
        self.save_holder(&ctx.caller.account_id, &holder).await?;
        Ok(None)
    }

    pub(super) async fn get_inline(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let policy_name = p.required("PolicyName")?;
        let mut holder = self.holder(ctx, owner, &owner.action("Get"), p).await?;
        let holder_name = holder.name().to_string();
        let Some(document) = holder.inline().get(policy_name).cloned() else {
            let what = match owner {
                Owner::User => "user",
                Owner::Role => "role",
            };
            return Err(QueryError::no_such_entity(format!(
                "The {what} policy with name {policy_name} cannot be found."
            )));
        };
        let mut x = Xml::new();
        x.text(owner.name_param(), &holder_name)
            .text("PolicyName", policy_name)
            .text("PolicyDocument", &encode_policy_document(&document));
        Ok(Some(x.finish()))
    }

    pub(super) async fn delete_inline(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let policy_name = p.required("PolicyName")?;
        let mut holder = self.holder(ctx, owner, &owner.action("Delete"), p).await?;
        if holder.inline().remove(policy_name).is_none() {
            let what = match owner {
                Owner::User => "user",
                Owner::Role => "role",
            };
            return Err(QueryError::no_such_entity(format!(
                "The {what} policy with name {policy_name} cannot be found."
            )));
        }
        self.save_holder(&ctx.caller.account_id, &holder).await?;
        Ok(None)
    }

    pub(super) async fn list_inline(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let mut holder = self
            .holder(
                ctx,
                owner,
                &owner.action("List").replace("Policy", "Policies"),
                p,
            )
            .await?;
        let names: Vec<String> = holder.inline().keys().cloned().collect();
        let (page, marker) = paginate(names, p)?;
        let mut x = Xml::new();
        x.open("PolicyNames");
        for n in &page {
            x.text("member", n);
        }
        x.close("PolicyNames");
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn attach(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let arn = p.required("PolicyArn")?;
        let mut holder = self.holder(ctx, owner, &owner.action("Attach"), p).await?;
        let arn = self.require_attachable(&ctx.caller.account_id, arn).await?;
        let attached = holder.attached();
        if !attached.contains(&arn) {
            if attached.len() >= MAX_ATTACHED {
                return Err(QueryError::limit_exceeded(format!(
                    "Cannot exceed quota for PoliciesPerUser: {MAX_ATTACHED}"
                )));
            }
            attached.push(arn);
        }
        self.save_holder(&ctx.caller.account_id, &holder).await?;
        Ok(None)
    }

    pub(super) async fn detach(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let arn = p.required("PolicyArn")?;
        check_policy_arn(arn)?;
        let mut holder = self.holder(ctx, owner, &owner.action("Detach"), p).await?;
        let attached = holder.attached();
        let before = attached.len();
        attached.retain(|a| a != arn);
        if attached.len() == before {
            return Err(policy_not_found(arn));
        }
        self.save_holder(&ctx.caller.account_id, &holder).await?;
        Ok(None)
    }

    pub(super) async fn list_attached(
        &self,
        ctx: &RequestContext,
        p: &Params,
        owner: Owner,
    ) -> Result<Option<String>, QueryError> {
        let mut holder = self
            .holder(ctx, owner, &owner.attached_action("ListAttached"), p)
            .await?;
        let prefix = p.get("PathPrefix").unwrap_or("/");
        let arns: Vec<String> = holder
            .attached()
            .iter()
            .filter(|a| {
                parse_iam_arn(a, "policy").is_some_and(|(_, path, _)| path.starts_with(prefix))
            })
            .cloned()
            .collect();
        let (page, marker) = paginate(arns, p)?;
        let mut x = Xml::new();
        x.members("AttachedPolicies", &page, |x, arn| {
            let name = parse_iam_arn(arn, "policy").map_or("", |(_, _, n)| n);
            x.text("PolicyName", name).text("PolicyArn", arn);
        });
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn create_policy(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("PolicyName")?;
        super::model::check_name("policyName", name, 128)?;
        let document = p.required("PolicyDocument")?;
        let path = check_path(p.get("Path"))?;
        let description = p.get("Description");
        let tags = p.tags("Tags")?;
        check_duplicate_tag_keys(&tags, false)?;
        let account = &ctx.caller.account_id;
        let arn = iam_arn(account, "policy", &path, name);
        self.authorize(ctx, "iam:CreatePolicy", &arn)?;
        parse_policy(
            document,
            PolicyKind::Managed,
            "PolicySize",
            MANAGED_POLICY_SIZE,
        )?;
        let policy = ManagedPolicyDoc {
            policy_id: super::model::new_unique_id("ANPA")?,
            name: name.to_string(),
            path,
            arn,
            description: description.map(str::to_string),
            default_version: "v1".into(),
            next_version: 2,
            created_ms: ctx.now,
            updated_ms: ctx.now,
            tags,
            versions: vec![PolicyVersionDoc {
                version_id: "v1".into(),
                document: document.to_string(),
                created_ms: ctx.now,
            }],
        };
        let obj = object(account, kind::POLICY, &name_key(name), &policy)?;
        match self.store.iam_write(vec![IamChange::Insert(obj)]).await {
            Err(StoreError::NameExists) => {
                return Err(QueryError::already_exists(format!(
                    "A policy called {name} already exists. Duplicate names are not allowed."
                )));
            }
            other => other.map_err(store_error)?,
        }
        let mut x = Xml::new();
        x.open("Policy");
        let mut view = customer_view(&policy, 0);
        view.tags = (!policy.tags.is_empty()).then_some(policy.tags.as_slice());
        // AWS shows a policy's Description in GetPolicy only, not in CreatePolicy's answer.
        view.description = None;
        write_policy(&mut x, &view);
        x.close("Policy");
        Ok(Some(x.finish()))
    }

    /// Authorises `action` on the policy `arn` (from the request) and loads it.
    async fn authorized_policy(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
    ) -> Result<
        (
            String,
            Result<ManagedPolicyDoc, &'static builtin::AwsManaged>,
        ),
        QueryError,
    > {
        let arn = p.required("PolicyArn")?.to_string();
        check_policy_arn(&arn)?;
        self.authorize(ctx, action, &arn)?;
        if let Some(aws) = builtin::by_arn(&arn) {
            return Ok((arn, Err(aws)));
        }
        match self.customer_policy(&ctx.caller.account_id, &arn).await? {
            Some(policy) => Ok((arn, Ok(policy))),
            None => Err(policy_not_found(&arn)),
        }
    }

    /// [`authorized_policy`](Self::authorized_policy) for a change to the policy's versions:
    /// AWS managed policies cannot be changed.
    async fn customer_policy_to_change(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
    ) -> Result<(String, ManagedPolicyDoc), QueryError> {
        match self.authorized_policy(ctx, action, p).await? {
            (arn, Ok(policy)) => Ok((arn, policy)),
            (_, Err(_)) => Err(QueryError::new(
                400,
                "UnmodifiableEntity",
                "Cannot modify an AWS managed policy.",
            )),
        }
    }

    /// Stores a managed policy document whole.
    async fn save_policy(
        &self,
        account: &str,
        policy: &ManagedPolicyDoc,
    ) -> Result<(), QueryError> {
        let obj = object(account, kind::POLICY, &name_key(&policy.name), policy)?;
        self.save(vec![IamChange::Upsert(obj)]).await
    }

    pub(super) async fn get_policy(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let (arn, policy) = self.authorized_policy(ctx, "iam:GetPolicy", p).await?;
        let count = self.attachment_count(&ctx.caller.account_id, &arn).await?;
        let mut x = Xml::new();
        x.open("Policy");
        match &policy {
            Ok(policy) => {
                let mut view = customer_view(policy, count);
                view.tags = Some(policy.tags.as_slice());
                write_policy(&mut x, &view);
            }
            Err(aws) => {
                let mut view = aws_view(aws, &arn, count);
                view.tags = Some(&[]);
                write_policy(&mut x, &view);
            }
        }
        x.close("Policy");
        Ok(Some(x.finish()))
    }

    pub(super) async fn delete_policy(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let (arn, policy) = self.authorized_policy(ctx, "iam:DeletePolicy", p).await?;
        let Ok(policy) = policy else {
            return Err(QueryError::new(
                400,
                "UnmodifiableEntity",
                format!("Cannot delete policy {arn}: AWS managed policies cannot be deleted."),
            ));
        };
        if self.attachment_count(&ctx.caller.account_id, &arn).await? > 0 {
            return Err(QueryError::delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        if policy.versions.len() > 1 {
            return Err(QueryError::delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must \
                 delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        self.save(vec![IamChange::Delete {
            account_id: ctx.caller.account_id.clone(),
            kind: kind::POLICY.to_string(),
            key: name_key(&policy.name),
        }])
        .await?;
        Ok(None)
    }

    pub(super) async fn list_policies(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let account = &ctx.caller.account_id;
        self.authorize(
            ctx,
            "iam:ListPolicies",
            &iam_arn(account, "policy", "/", ""),
        )?;
        let scope = p.get("Scope").unwrap_or("All");
        if !["All", "AWS", "Local"].contains(&scope) {
            return Err(QueryError::validation(format!(
                "1 validation error detected: Value '{scope}' at 'scope' failed to satisfy \
                 constraint: Member must satisfy enum value set: [All, AWS, Local]"
            )));
        }
        let only_attached = p.bool("OnlyAttached")?.unwrap_or(false);
        let prefix = p.get("PathPrefix").unwrap_or("/");
        let users: Vec<UserDoc> = self.load_all(account, kind::USER).await?;
        let roles: Vec<RoleDoc> = self.load_all(account, kind::ROLE).await?;
        let count = |arn: &str| {
            users
                .iter()
                .filter(|u| u.attached.iter().any(|a| a == arn))
                .count()
                + roles
                    .iter()
                    .filter(|r| r.attached.iter().any(|a| a == arn))
                    .count()
        };
        let customer: Vec<ManagedPolicyDoc> = if scope == "AWS" {
            Vec::new()
        } else {
            self.load_all(account, kind::POLICY).await?
        };
        let aws_arns: Vec<(String, &'static builtin::AwsManaged)> = if scope == "Local" {
            Vec::new()
        } else {
            builtin::AWS_MANAGED
                .iter()
                .map(|p| (builtin::arn(p.name), p))
                .collect()
        };
        let mut rows: Vec<(
            String,
            usize,
            Option<&ManagedPolicyDoc>,
            Option<&'static builtin::AwsManaged>,
        )> = Vec::new();
        for c in &customer {
            rows.push((c.arn.clone(), count(&c.arn), Some(c), None));
        }
        for (arn, a) in &aws_arns {
            rows.push((arn.clone(), count(arn), None, Some(*a)));
        }
        rows.retain(|(arn, n, c, _)| {
            (!only_attached || *n > 0)
                && c.map_or("/", |c| c.path.as_str()).starts_with(prefix)
                && !arn.is_empty()
        });
        let (page, marker) = paginate(rows, p)?;
        let mut x = Xml::new();
        x.members("Policies", &page, |x, (arn, n, c, a)| {
            let mut view = match (c, a) {
                (Some(c), _) => customer_view(c, *n),
                (None, Some(a)) => aws_view(a, arn, *n),
                (None, None) => return,
            };
            // ListPolicies leaves descriptions out, as AWS does.
            view.description = None;
            write_policy(x, &view);
        });
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn create_policy_version(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let document = p.required("PolicyDocument")?;
        let set_default = p.bool("SetAsDefault")?.unwrap_or(false);
        let (_, mut policy) = self
            .customer_policy_to_change(ctx, "iam:CreatePolicyVersion", p)
            .await?;
        parse_policy(
            document,
            PolicyKind::Managed,
            "PolicySize",
            MANAGED_POLICY_SIZE,
        )?;
        if policy.versions.len() >= MAX_POLICY_VERSIONS {
            return Err(QueryError::limit_exceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, \
                 you must delete an existing version.",
            ));
        }
        let version_id = format!("v{}", policy.next_version);
        policy.next_version += 1;
        policy.versions.push(PolicyVersionDoc {
            version_id: version_id.clone(),
            document: document.to_string(),
            created_ms: ctx.now,
        });
        if set_default {
            policy.default_version = version_id.clone();
            policy.updated_ms = ctx.now;
        }
        self.save_policy(&ctx.caller.account_id, &policy).await?;
        let mut x = Xml::new();
        x.open("PolicyVersion")
            .text("VersionId", &version_id)
            .bool("IsDefaultVersion", set_default)
            .text("CreateDate", &timestamp(ctx.now))
            .close("PolicyVersion");
        Ok(Some(x.finish()))
    }

    pub(super) async fn get_policy_version(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let version_id = version_id_param(p)?;
        let (arn, policy) = self
            .authorized_policy(ctx, "iam:GetPolicyVersion", p)
            .await
            .map_err(|e| as_missing_version(e, p, version_id))?;
        let not_found = || no_such_version(&arn, version_id);
        let (document, is_default, created) = match &policy {
            Ok(policy) => {
                let v = policy
                    .versions
                    .iter()
                    .find(|v| v.version_id == version_id)
                    .ok_or_else(not_found)?;
                (
                    v.document.clone(),
                    policy.default_version == version_id,
                    v.created_ms,
                )
            }
            Err(aws) if version_id == "v1" => (aws.document.to_string(), true, 0),
            Err(_) => return Err(not_found()),
        };
        let mut x = Xml::new();
        x.open("PolicyVersion")
            .text("Document", &encode_policy_document(&document))
            .text("VersionId", version_id)
            .bool("IsDefaultVersion", is_default)
            .text("CreateDate", &timestamp(created))
            .close("PolicyVersion");
        Ok(Some(x.finish()))
    }

    pub(super) async fn list_policy_versions(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let (_, policy) = self
            .authorized_policy(ctx, "iam:ListPolicyVersions", p)
            .await?;
        let versions: Vec<(String, bool, i64)> = match &policy {
            Ok(policy) => policy
                .versions
                .iter()
                .rev()
                .map(|v| {
                    (
                        v.version_id.clone(),
                        v.version_id == policy.default_version,
                        v.created_ms,
                    )
                })
                .collect(),
            Err(_) => vec![("v1".to_string(), true, 0)],
        };
        let (page, marker) = paginate(versions, p)?;
        let mut x = Xml::new();
        x.members("Versions", &page, |x, (id, default, created)| {
            x.text("VersionId", id)
                .bool("IsDefaultVersion", *default)
                .text("CreateDate", &timestamp(*created));
        });
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn delete_policy_version(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let version_id = version_id_param(p)?;
        let (arn, mut policy) = self
            .customer_policy_to_change(ctx, "iam:DeletePolicyVersion", p)
            .await?;
        if policy.default_version == version_id {
            return Err(QueryError::delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        let before = policy.versions.len();
        policy.versions.retain(|v| v.version_id != version_id);
        if policy.versions.len() == before {
            return Err(no_such_version(&arn, version_id));
        }
        self.save_policy(&ctx.caller.account_id, &policy).await?;
        Ok(None)
    }

    pub(super) async fn set_default_policy_version(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let version_id = version_id_param(p)?;
        let (arn, mut policy) = self
            .customer_policy_to_change(ctx, "iam:SetDefaultPolicyVersion", p)
            .await
            .map_err(|e| as_missing_version(e, p, version_id))?;
        if !policy.versions.iter().any(|v| v.version_id == version_id) {
            return Err(no_such_version(&arn, version_id));
        }
        policy.default_version = version_id.to_string();
        policy.updated_ms = ctx.now;
        self.save_policy(&ctx.caller.account_id, &policy).await?;
        Ok(None)
    }
}
