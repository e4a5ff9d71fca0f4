//! IAM roles and their trust policies.

use super::authz::{request_tag_keys, tag_keys_key};
use super::model::{self, RoleDoc, check_name, check_path, iam_arn, kind, name_key};
use super::query::{QueryError, Xml, check_duplicate_tag_keys, encode_policy_document, timestamp};
use super::users::check_tag_count;
use super::{IamService, Params, object, paginate, parse_policy, store_error, write_truncation};
use crate::api::RequestContext;
use crate::policy::{ConditionContext, PolicyKind};
use crate::store::{IamChange, StoreError};

/// Longest IAM role name.
const MAX_ROLE_NAME: usize = 64;
/// AWS's default MaxSessionDuration.
pub(super) const DEFAULT_MAX_SESSION: i64 = 3600;

/// What a `<Role>` element includes: GetRole adds the session limit and last use; ListRoles
/// leaves out tags.
#[derive(Debug, Clone, Copy)]
struct RoleView {
    tags: bool,
    details: bool,
}

fn write_role(x: &mut Xml, role: &RoleDoc, view: RoleView) {
    x.text("Path", &role.path)
        .text("RoleName", &role.name)
        .text("RoleId", &role.role_id)
        .text("Arn", &role.arn)
        .text("CreateDate", &timestamp(role.created_ms))
        .text(
            "AssumeRolePolicyDocument",
            &encode_policy_document(&role.trust_policy),
        )
        .opt("Description", role.description.as_deref());
    if view.details || !view.tags {
        x.text("MaxSessionDuration", &role.max_session_duration.to_string());
    }
    if view.tags && !role.tags.is_empty() {
        x.tags("Tags", &role.tags);
    }
    if let Some(b) = &role.boundary
        && view.tags
    {
        x.open("PermissionsBoundary")
            .text("PermissionsBoundaryType", "Policy")
            .text("PermissionsBoundaryArn", b)
            .close("PermissionsBoundary");
    }
    if view.details {
        x.open("RoleLastUsed");
        if let Some(t) = role.last_used_ms {
            x.text("LastUsedDate", &timestamp(t));
        }
        x.close("RoleLastUsed");
    }
}

/// AWS's text for a missing role.
pub(super) fn no_such_role(name: &str) -> QueryError {
    QueryError::no_such_entity(format!("The role with name {name} cannot be found."))
}

/// Parses a trust policy with IAM's errors.
fn parse_trust_policy(text: &str) -> Result<(), QueryError> {
    parse_policy(text, PolicyKind::Trust, "ACLSizePerRole", 2048).map(|_| ())
}

impl IamService {
    /// Authorises `action` on the named role and returns it, or NoSuchEntity.
    pub(super) async fn authorized_role(
        &self,
        ctx: &RequestContext,
        action: &str,
        name: &str,
    ) -> Result<RoleDoc, QueryError> {
        self.authorized_role_with(ctx, action, name, &ConditionContext::default())
            .await
    }

    /// [`authorized_role`](Self::authorized_role), with the request's own condition keys.
    pub(super) async fn authorized_role_with(
        &self,
        ctx: &RequestContext,
        action: &str,
        name: &str,
        request: &ConditionContext,
    ) -> Result<RoleDoc, QueryError> {
        check_name("roleName", name, MAX_ROLE_NAME)?;
        let account = &ctx.caller.account_id;
        let role: Option<RoleDoc> = self.load(account, kind::ROLE, &name_key(name)).await?;
        let arn = match &role {
            Some(r) => r.arn.clone(),
            None => iam_arn(account, "role", "/", name),
        };
        let tags = role.as_ref().map_or(&[][..], |r| r.tags.as_slice());
        self.authorize_tagged(ctx, action, &arn, tags, request)?;
        role.ok_or_else(|| no_such_role(name))
    }

    pub(super) async fn save_role(&self, account: &str, role: &RoleDoc) -> Result<(), QueryError> {
        let obj = object(account, kind::ROLE, &name_key(&role.name), role)?;
        self.save(vec![IamChange::Upsert(obj)]).await
    }

    pub(super) async fn create_role(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        check_name("roleName", name, MAX_ROLE_NAME)?;
        let trust = p.required("AssumeRolePolicyDocument")?;
        let path = check_path(p.get("Path"))?;
        let description = p.get("Description");
        if description.is_some_and(|d| d.chars().count() > 1000) {
            return Err(QueryError::validation(
                "1 validation error detected: Value at 'description' failed to satisfy \
                 constraint: Member must have length less than or equal to 1000",
            ));
        }
        let max_session = p
            .int("MaxSessionDuration", 3600, 43200)?
            .unwrap_or(DEFAULT_MAX_SESSION);
        let tags = p.tags("Tags")?;
        check_duplicate_tag_keys(&tags, true)?;
        let account = &ctx.caller.account_id;
        let arn = iam_arn(account, "role", &path, name);
        let request = request_tag_keys(&tags);
        self.authorize_tagged(ctx, "iam:CreateRole", &arn, &[], &request)?;
        if !tags.is_empty() {
            self.authorize_tagged(ctx, "iam:TagRole", &arn, &[], &request)?;
        }
        parse_trust_policy(trust)?;
        let boundary = match p.get("PermissionsBoundary") {
            Some(b) => Some(self.require_boundary(account, b).await?),
            None => None,
        };
        let role = RoleDoc {
            role_id: model::new_unique_id("AROA")?,
            name: name.to_string(),
            path,
            arn,
            created_ms: ctx.now,
            description: description.map(str::to_string),
            trust_policy: trust.to_string(),
            max_session_duration: max_session,
            tags,
            boundary,
            inline: Default::default(),
            attached: Vec::new(),
            last_used_ms: None,
        };
        let obj = object(account, kind::ROLE, &name_key(name), &role)?;
        match self.store.iam_write(vec![IamChange::Insert(obj)]).await {
            Err(StoreError::NameExists) => {
                return Err(QueryError::already_exists(format!(
                    "Role with name {name} already exists."
                )));
            }
            other => other.map_err(store_error)?,
        }
        let mut x = Xml::new();
        x.open("Role");
        write_role(
            &mut x,
            &role,
            RoleView {
                tags: true,
                details: false,
            },
        );
        x.close("Role");
        Ok(Some(x.finish()))
    }

    pub(super) async fn get_role(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        let role = self.authorized_role(ctx, "iam:GetRole", name).await?;
        let mut x = Xml::new();
        x.open("Role");
        write_role(
            &mut x,
            &role,
            RoleView {
                tags: true,
                details: true,
            },
        );
        x.close("Role");
        Ok(Some(x.finish()))
    }

    pub(super) async fn list_roles(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let account = &ctx.caller.account_id;
        self.authorize(ctx, "iam:ListRoles", &iam_arn(account, "role", "/", ""))?;
        let prefix = p.get("PathPrefix").unwrap_or("/");
        let mut roles: Vec<RoleDoc> = self.load_all(account, kind::ROLE).await?;
        roles.retain(|r| r.path.starts_with(prefix));
        let (page, marker) = paginate(roles, p)?;
        let mut x = Xml::new();
        x.members("Roles", &page, |x, r| {
            write_role(
                x,
                r,
                RoleView {
                    tags: false,
                    details: false,
                },
            )
        });
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn delete_role(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        let role = self.authorized_role(ctx, "iam:DeleteRole", name).await?;
        if !role.inline.is_empty() {
            return Err(QueryError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if !role.attached.is_empty() {
            return Err(QueryError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        self.save(vec![IamChange::Delete {
            account_id: ctx.caller.account_id.clone(),
            kind: kind::ROLE.to_string(),
            key: name_key(name),
        }])
        .await?;
        Ok(None)
    }

    pub(super) async fn tag_role(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        let tags = p.tags("Tags")?;
        check_duplicate_tag_keys(&tags, true)?;
        let mut role = self
            .authorized_role_with(ctx, "iam:TagRole", name, &request_tag_keys(&tags))
            .await?;
        crate::model::merge_tags(&mut role.tags, tags);
        check_tag_count(role.tags.len())?;
        self.save_role(&ctx.caller.account_id, &role).await?;
        Ok(None)
    }

    pub(super) async fn untag_role(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        let keys = p.tag_keys("TagKeys")?;
        let mut role = self
            .authorized_role_with(ctx, "iam:UntagRole", name, &tag_keys_key(&keys))
            .await?;
        role.tags.retain(|t| !keys.contains(&t.key));
        self.save_role(&ctx.caller.account_id, &role).await?;
        Ok(None)
    }

    pub(super) async fn list_role_tags(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        let role = self.authorized_role(ctx, "iam:ListRoleTags", name).await?;
        let (page, marker) = paginate(role.tags, p)?;
        let mut x = Xml::new();
        x.tags("Tags", &page);
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn update_assume_role_policy(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("RoleName")?;
        let document = p.required("PolicyDocument")?;
        let mut role = self
            .authorized_role(ctx, "iam:UpdateAssumeRolePolicy", name)
            .await?;
        parse_trust_policy(document)?;
        role.trust_policy = document.to_string();
        self.save_role(&ctx.caller.account_id, &role).await?;
        Ok(None)
    }
}
