//! IAM users and their access keys.

use super::authz::{request_tag_keys, tag_keys_key};
use super::model::{self, UserDoc, check_name, check_path, iam_arn, kind, name_key};
use super::query::{QueryError, Xml, check_duplicate_tag_keys, timestamp};
use super::{IamService, Params, object, paginate, store_error, write_truncation};
use crate::api::RequestContext;
use crate::auth::PrincipalKind;
use crate::policy::ConditionContext;
use crate::store::{IamChange, StoreError};

/// Longest IAM user name.
const MAX_USER_NAME: usize = 64;
/// AWS's quota of access keys per user.
const MAX_KEYS_PER_USER: usize = 2;

/// `<User>` as CreateUser and GetUser return it.
pub(super) fn write_user(x: &mut Xml, user: &UserDoc, with_tags: bool) {
    x.open("User")
        .text("Path", &user.path)
        .text("UserName", &user.name)
        .text("UserId", &user.user_id)
        .text("Arn", &user.arn)
        .text("CreateDate", &timestamp(user.created_ms));
    if let Some(b) = &user.boundary {
        x.open("PermissionsBoundary")
            .text("PermissionsBoundaryType", "Policy")
            .text("PermissionsBoundaryArn", b)
            .close("PermissionsBoundary");
    }
    if with_tags && !user.tags.is_empty() {
        x.tags("Tags", &user.tags);
    }
    x.close("User");
}

/// AWS's text for a missing user.
pub(super) fn no_such_user(name: &str) -> QueryError {
    QueryError::no_such_entity(format!("The user with name {name} cannot be found."))
}

impl IamService {
    /// The user ARN a request about `name` is authorised against: the user's own ARN when it
    /// exists, otherwise the ARN it would have at the root path.
    pub(super) async fn user_resource(
        &self,
        account: &str,
        name: &str,
    ) -> Result<(String, Option<UserDoc>), QueryError> {
        let user: Option<UserDoc> = self.load(account, kind::USER, &name_key(name)).await?;
        let arn = match &user {
            Some(u) => u.arn.clone(),
            None => iam_arn(account, "user", "/", name),
        };
        Ok((arn, user))
    }

    /// Authorises `action` on the named user and returns it, or NoSuchEntity.
    pub(super) async fn authorized_user(
        &self,
        ctx: &RequestContext,
        action: &str,
        name: &str,
    ) -> Result<UserDoc, QueryError> {
        self.authorized_user_with(ctx, action, name, &ConditionContext::default())
            .await
    }

    /// [`authorized_user`](Self::authorized_user), with the request's own condition keys.
    pub(super) async fn authorized_user_with(
        &self,
        ctx: &RequestContext,
        action: &str,
        name: &str,
        request: &ConditionContext,
    ) -> Result<UserDoc, QueryError> {
        check_name("userName", name, MAX_USER_NAME)?;
        let (arn, user) = self.user_resource(&ctx.caller.account_id, name).await?;
        let tags = user.as_ref().map_or(&[][..], |u| u.tags.as_slice());
        self.authorize_tagged(ctx, action, &arn, tags, request)?;
        user.ok_or_else(|| no_such_user(name))
    }

    pub(super) async fn create_user(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("UserName")?;
        check_name("userName", name, MAX_USER_NAME)?;
        let path = check_path(p.get("Path"))?;
        let tags = p.tags("Tags")?;
        check_duplicate_tag_keys(&tags, true)?;
        let account = &ctx.caller.account_id;
        let arn = iam_arn(account, "user", &path, name);
        let request = request_tag_keys(&tags);
        self.authorize_tagged(ctx, "iam:CreateUser", &arn, &[], &request)?;
        if !tags.is_empty() {
            self.authorize_tagged(ctx, "iam:TagUser", &arn, &[], &request)?;
        }
        let boundary = match p.get("PermissionsBoundary") {
            Some(b) => Some(self.require_boundary(account, b).await?),
            None => None,
        };
        let user = UserDoc {
            user_id: model::new_unique_id("AIDA")?,
            name: name.to_string(),
            path,
            arn,
            created_ms: ctx.now,
            tags,
            boundary,
            inline: Default::default(),
            attached: Vec::new(),
        };
        let obj = object(account, kind::USER, &name_key(name), &user)?;
        match self.store.iam_write(vec![IamChange::Insert(obj)]).await {
            Err(StoreError::NameExists) => {
                return Err(QueryError::already_exists(format!(
                    "User with name {name} already exists."
                )));
            }
            other => other.map_err(store_error)?,
        }
        let mut x = Xml::new();
        write_user(&mut x, &user, true);
        Ok(Some(x.finish()))
    }

    pub(super) async fn get_user(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = match p.get("UserName") {
            Some(n) => n.to_string(),
            None => match ctx.caller.kind {
                PrincipalKind::User => ctx
                    .caller
                    .grants
                    .principal
                    .username
                    .clone()
                    .unwrap_or_default(),
                PrincipalKind::Root => {
                    self.authorize(ctx, "iam:GetUser", &ctx.caller.arn)?;
                    // The root user is as old as its account.
                    let account = &ctx.caller.account_id;
                    let created = self
                        .load::<super::AccountDoc>(account, super::kind::ACCOUNT, account)
                        .await?
                        .map_or(0, |a| a.created_ms);
                    let mut x = Xml::new();
                    x.open("User")
                        .text("Path", "/")
                        .text("UserId", &ctx.caller.account_id)
                        .text("Arn", &ctx.caller.arn)
                        .text("CreateDate", &timestamp(created))
                        .close("User");
                    return Ok(Some(x.finish()));
                }
                PrincipalKind::AssumedRole => {
                    return Err(QueryError::validation(
                        "Must specify userName when calling with non-User credentials",
                    ));
                }
            },
        };
        let user = self.authorized_user(ctx, "iam:GetUser", &name).await?;
        let mut x = Xml::new();
        write_user(&mut x, &user, true);
        Ok(Some(x.finish()))
    }

    pub(super) async fn list_users(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let account = &ctx.caller.account_id;
        self.authorize(ctx, "iam:ListUsers", &iam_arn(account, "user", "/", ""))?;
        let prefix = p.get("PathPrefix").unwrap_or("/");
        let mut users: Vec<UserDoc> = self.load_all(account, kind::USER).await?;
        users.retain(|u| u.path.starts_with(prefix));
        let (page, marker) = paginate(users, p)?;
        let mut x = Xml::new();
        x.members("Users", &page, |x, u| {
            x.text("Path", &u.path)
                .text("UserName", &u.name)
                .text("UserId", &u.user_id)
                .text("Arn", &u.arn)
                .text("CreateDate", &timestamp(u.created_ms));
        });
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn delete_user(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("UserName")?;
        let user = self.authorized_user(ctx, "iam:DeleteUser", name).await?;
        if self.keys_of(&user.arn).await?.next().is_some() {
            return Err(QueryError::delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        if !user.inline.is_empty() {
            return Err(QueryError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if !user.attached.is_empty() {
            return Err(QueryError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        self.save(vec![IamChange::Delete {
            account_id: ctx.caller.account_id.clone(),
            kind: kind::USER.to_string(),
            key: name_key(name),
        }])
        .await?;
        Ok(None)
    }

    pub(super) async fn tag_user(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("UserName")?;
        let tags = p.tags("Tags")?;
        check_duplicate_tag_keys(&tags, true)?;
        let mut user = self
            .authorized_user_with(ctx, "iam:TagUser", name, &request_tag_keys(&tags))
            .await?;
        crate::model::merge_tags(&mut user.tags, tags);
        check_tag_count(user.tags.len())?;
        self.save_user(&ctx.caller.account_id, &user).await?;
        Ok(None)
    }

    pub(super) async fn untag_user(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("UserName")?;
        let keys = p.tag_keys("TagKeys")?;
        let mut user = self
            .authorized_user_with(ctx, "iam:UntagUser", name, &tag_keys_key(&keys))
            .await?;
        user.tags.retain(|t| !keys.contains(&t.key));
        self.save_user(&ctx.caller.account_id, &user).await?;
        Ok(None)
    }

    pub(super) async fn list_user_tags(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let name = p.required("UserName")?;
        let user = self.authorized_user(ctx, "iam:ListUserTags", name).await?;
        let (page, marker) = paginate(user.tags, p)?;
        let mut x = Xml::new();
        x.tags("Tags", &page);
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    pub(super) async fn save_user(&self, account: &str, user: &UserDoc) -> Result<(), QueryError> {
        let obj = object(account, kind::USER, &name_key(&user.name), user)?;
        self.save(vec![IamChange::Upsert(obj)]).await
    }

    /// The access keys of the principal `arn`.
    async fn keys_of(
        &self,
        arn: &str,
    ) -> Result<impl Iterator<Item = crate::store::AccessKeyRecord>, QueryError> {
        let arn = arn.to_string();
        Ok(self
            .store
            .access_keys()
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(move |k| k.principal_arn == arn))
    }

    /// The principal whose keys a request is about: the named user, or with no `UserName`
    /// the caller itself (a user, or an account's root).
    async fn key_owner(
        &self,
        ctx: &RequestContext,
        p: &Params,
        action: &str,
    ) -> Result<(String, Option<String>), QueryError> {
        match p.get("UserName") {
            Some(name) => {
                let user = self.authorized_user(ctx, action, name).await?;
                Ok((user.arn, Some(user.name)))
            }
            None => match ctx.caller.kind {
                PrincipalKind::AssumedRole => Err(QueryError::validation(
                    "Must specify userName when calling with non-User credentials",
                )),
                _ => {
                    self.authorize(ctx, action, &ctx.caller.arn)?;
                    Ok((
                        ctx.caller.arn.clone(),
                        ctx.caller.grants.principal.username.clone(),
                    ))
                }
            },
        }
    }

    pub(super) async fn create_access_key(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let (arn, user_name) = self.key_owner(ctx, p, "iam:CreateAccessKey").await?;
        if self.keys_of(&arn).await?.count() >= MAX_KEYS_PER_USER {
            return Err(QueryError::limit_exceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
            )));
        }
        let (id, secret, created) = self
            .create_access_key_for(&ctx.caller.account_id, &arn)
            .await?;
        let mut x = Xml::new();
        x.open("AccessKey");
        x.opt("UserName", user_name.as_deref())
            .text("AccessKeyId", &id)
            .text("Status", "Active")
            .text("SecretAccessKey", secret.expose())
            .text("CreateDate", &timestamp(created))
            .close("AccessKey");
        Ok(Some(x.finish()))
    }

    pub(super) async fn list_access_keys(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let (arn, user_name) = self.key_owner(ctx, p, "iam:ListAccessKeys").await?;
        let mut keys: Vec<_> = self.keys_of(&arn).await?.collect();
        keys.sort_by_key(|k| k.created_ms);
        let (page, marker) = paginate(keys, p)?;
        let mut x = Xml::new();
        x.members("AccessKeyMetadata", &page, |x, k| {
            x.opt("UserName", user_name.as_deref())
                .text("AccessKeyId", &k.access_key_id)
                .text("Status", model::status_text(k.active))
                .text("CreateDate", &timestamp(k.created_ms));
        });
        write_truncation(&mut x, marker);
        Ok(Some(x.finish()))
    }

    /// The caller's key `id` of the principal in the request, or NoSuchEntity.
    async fn owned_key(
        &self,
        ctx: &RequestContext,
        p: &Params,
        action: &str,
    ) -> Result<String, QueryError> {
        let id = p.required("AccessKeyId")?;
        let (arn, _) = self.key_owner(ctx, p, action).await?;
        if self.keys_of(&arn).await?.any(|k| k.access_key_id == id) {
            Ok(id.to_string())
        } else {
            Err(QueryError::no_such_entity(format!(
                "The Access Key with id {id} cannot be found."
            )))
        }
    }

    pub(super) async fn update_access_key(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let active = match p.required("Status")? {
            "Active" => true,
            "Inactive" => false,
            other => {
                return Err(QueryError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'status' failed to satisfy \
                     constraint: Member must satisfy enum value set: [Active, Inactive]"
                )));
            }
        };
        let id = self.owned_key(ctx, p, "iam:UpdateAccessKey").await?;
        self.store
            .set_access_key_active(&id, active)
            .await
            .map_err(store_error)?;
        Ok(None)
    }

    pub(super) async fn delete_access_key(
        &self,
        ctx: &RequestContext,
        p: &Params,
    ) -> Result<Option<String>, QueryError> {
        let id = self.owned_key(ctx, p, "iam:DeleteAccessKey").await?;
        self.store
            .delete_access_key(&id)
            .await
            .map_err(store_error)?;
        Ok(None)
    }
}

/// AWS's quota of tags per IAM entity.
pub(super) fn check_tag_count(n: usize) -> Result<(), QueryError> {
    if n > 50 {
        return Err(QueryError::limit_exceeded(
            "The number of tags has reached the maximum limit.",
        ));
    }
    Ok(())
}
