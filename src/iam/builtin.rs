//! A few AWS managed policies, so runbooks that attach them by ARN work unchanged. Their
//! documents are Strongbox's equivalents, scoped to the services Strongbox serves.

/// An AWS managed policy.
#[derive(Debug, Clone, Copy)]
pub struct AwsManaged {
    /// Name, the last part of its ARN.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// The default version's document.
    pub document: &'static str,
}

/// The AWS managed policies Strongbox knows.
pub const AWS_MANAGED: &[AwsManaged] = &[
    AwsManaged {
        name: "AdministratorAccess",
        description: "Provides full access to AWS services and resources.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    },
    AwsManaged {
        name: "SecretsManagerReadWrite",
        description: "Provides read/write access to AWS Secrets Manager via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#,
    },
    AwsManaged {
        name: "IAMFullAccess",
        description: "Provides full access to IAM via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
    },
    AwsManaged {
        name: "IAMReadOnlyAccess",
        description: "Provides read only access to IAM via the AWS Management Console.",
        document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}"#,
    },
];

/// `arn:aws:iam::aws:policy/<name>`.
pub fn arn(name: &str) -> String {
    format!("arn:aws:iam::aws:policy/{name}")
}

/// The AWS managed policy with `arn`.
pub fn by_arn(arn: &str) -> Option<&'static AwsManaged> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    AWS_MANAGED.iter().find(|p| p.name == name)
}
