//! Table-driven tests: one line per case. Each `t.case()…` chain builds a request and policy set
//! and ends in the expected decision; failures are collected with their line numbers and
//! reported together. Policies are modelled on the examples in AWS's IAM and Secrets Manager
//! user guides.

use std::panic::Location;
use std::sync::Arc;

use super::PolicyType::{
    Identity as ID, PermissionsBoundary as PB, Resource as RB, Session as SE, Trust as TR,
};
use super::*;

const A: &str = "111122223333";
const B: &str = "444455556666";
const GET: &str = "secretsmanager:GetSecretValue";
const DESCRIBE: &str = "secretsmanager:DescribeSecret";
const PUT: &str = "secretsmanager:PutSecretValue";
const DELETE: &str = "secretsmanager:DeleteSecret";
const CREATE: &str = "secretsmanager:CreateSecret";
const LIST: &str = "secretsmanager:ListSecrets";
const TAG: &str = "secretsmanager:TagResource";
const ASSUME: &str = "sts:AssumeRole";
const PROD_DB: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";
const PROD_DB_X: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-x-AbCdEf";
const DEV_APP: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:dev/app-XyZ123";
const HOME_ALICE: &str =
    "arn:aws:secretsmanager:us-east-1:111122223333:secret:home/alice/key-AbCdEf";
const HOME_BOB: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:home/bob/key-AbCdEf";
const EU_DB: &str = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf";
const B_SECRET: &str = "arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-AbCdEf";
const ROLE_TARGET: &str = "arn:aws:iam::111122223333:role/target";

// ---- Principals ----------------------------------------------------------------------------

fn alice() -> Principal {
    Principal::user(A, "/", "alice", "AIDAALICE000000000001").with_tag("team", "blue")
}
fn bob() -> Principal {
    Principal::user(A, "/dev/", "bob", "AIDABOB00000000000001").with_tag("Team", "red")
}
fn carol() -> Principal {
    Principal::user(B, "/", "carol", "AIDACAROL000000000001")
}
fn root_a() -> Principal {
    Principal::root(A)
}
fn root_b() -> Principal {
    Principal::root(B)
}
fn app() -> Principal {
    Principal::session(A, "/", "app", "AROAAPP00000000000001", "s1").with_tag("team", "blue")
}
fn ext() -> Principal {
    Principal::session(B, "/svc/", "ext", "AROAEXT00000000000001", "job")
}

// ---- Identity policies ---------------------------------------------------------------------

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
const ALLOW_SM: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#;
const ALLOW_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
const ALLOW_GET_PROD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:111122223333:secret:prod/*"}]}"#;
const ALLOW_SUFFIX6: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-??????"}]}"#;
const ALLOW_DESCRIBE_WILD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:Describe*","Resource":"*"}]}"#;
const ALLOW_GET_QMARK: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:?etSecretValue","Resource":"*"}]}"#;
const ALLOW_MIXED_CASE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"SecretsManager:getsecretVALUE","Resource":"*"}]}"#;
const ALLOW_UPPER_RES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:PROD/*"}]}"#;
const DENY_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}]}"#;
const DENY_PROD: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:prod/*"}}"#;
const NOT_ACTION: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["secretsmanager:DeleteSecret","secretsmanager:PutSecretValue"],"Resource":"*"}}"#;
const DENY_NOT_ACTION: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"secretsmanager:Describe*","Resource":"*"}}"#;
const NOT_RESOURCE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}}"#;
const DENY_NOT_RESOURCE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","NotResource":["arn:aws:secretsmanager:us-east-1:*:secret:dev/*"]}]}"#;
const REGION_ONLY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:us-east-1:*"}}"#;
const ALLOW_LIST_STAR: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}}"#;
const EMPTY_COND: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}"#;

// Conditions (one operator family each).
const IP_ALLOW: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.7","2001:db8::/32"]}}}}"#;
const IP_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}]}"#;
const VPCE_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}"#;
const VPCE_DENY_IFEXISTS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}"#;
const STAGE_CURRENT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}}}"#;
const STAGE_CURRENT_IFEXISTS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEqualsIfExists":{"secretsmanager:VersionStage":"AWSCURRENT"}}}}"#;
const STAGE_ANY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}}}"#;
const IGNORE_CASE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:ResourceTag/Env":"Prod"}}}}"#;
const NOT_IGNORE_CASE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEqualsIgnoreCase":{"aws:ResourceTag/Env":["Prod","Staging"]}}}}"#;
const LIKE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/Project":["alpha-*","beta-??"]}}}}"#;
const NOT_LIKE_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotLike":{"secretsmanager:Name":["app/*","svc/*"]}}}]}"#;
const TAG_EQ_AND_NE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/Env":"prod","aws:ResourceTag/Team":"blue"},"StringNotEquals":{"aws:ResourceTag/Owner":"mallory"}}}}"#;
const NUM_RECOVERY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:DeleteSecret","Resource":"*","Condition":{"NumericGreaterThanEquals":{"secretsmanager:RecoveryWindowInDays":"7"}}}}"#;
const NUM_FAMILY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"eq","Effect":"Allow","Action":"test:Eq","Resource":"*","Condition":{"NumericEquals":{"t:n":10}}},{"Sid":"ne","Effect":"Allow","Action":"test:Ne","Resource":"*","Condition":{"NumericNotEquals":{"t:n":["10","20"]}}},{"Sid":"lt","Effect":"Allow","Action":"test:Lt","Resource":"*","Condition":{"NumericLessThan":{"t:n":"10"}}},{"Sid":"le","Effect":"Allow","Action":"test:Le","Resource":"*","Condition":{"NumericLessThanEquals":{"t:n":"10"}}},{"Sid":"gt","Effect":"Allow","Action":"test:Gt","Resource":"*","Condition":{"NumericGreaterThan":{"t:n":"10"}}},{"Sid":"ge","Effect":"Allow","Action":"test:Ge","Resource":"*","Condition":{"NumericGreaterThanEquals":{"t:n":"10.5"}}}]}"#;
const DATE_WINDOW: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}"#;
const DATE_FAMILY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"test:Eq","Resource":"*","Condition":{"DateEquals":{"t:d":"2021-01-01T00:00:00Z"}}},{"Effect":"Allow","Action":"test:Ne","Resource":"*","Condition":{"DateNotEquals":{"t:d":"2021-01-01"}}},{"Effect":"Allow","Action":"test:Le","Resource":"*","Condition":{"DateLessThanEquals":{"t:d":"1609459200"}}},{"Effect":"Allow","Action":"test:Ge","Resource":"*","Condition":{"DateGreaterThanEquals":{"t:d":"2021-01-01T01:00:00+01:00"}}}]}"#;
const EPOCH_BEFORE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"1700000000"}}}}"#;
const SECURE_TRANSPORT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#;
const MFA_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
const BINARY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"t:blob":"QmluYXJ5VmFsdWU="}}}}"#;
const ARN_LAMBDA: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:RotateSecret","Resource":"*","Condition":{"ArnLike":{"secretsmanager:RotationLambdaARN":"arn:aws:lambda:*:111122223333:function:rotate-*"}}}}"#;
const ARN_EQUALS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:lambda:us-east-1:111122223333:function:f"}}}}"#;
const ARN_NOT_LIKE_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/admin*","arn:aws:iam::111122223333:user/alice"]}}}]}"#;
const ARN_STAR_COLON: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:*:function:f"}}}}"#;
const NULL_REPLICA: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"Null":{"secretsmanager:AddReplicaRegions":"false"}}}]}"#;
const REQUIRE_TAG: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"Null":{"aws:RequestTag/CostCenter":"true"}}}]}"#;
const TAGKEYS_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["secretsmanager:TagResource","secretsmanager:CreateSecret"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["Env","Team"]}}}}"#;
const TAGKEYS_ALL_NN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:TagResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["Env","Team"]},"Null":{"aws:TagKeys":"false"}}}}"#;
const TAGKEYS_ANY_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:TagResource","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"aws:*"}}}]}"#;
const REGIONS_ALL_NOT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:ReplicateSecretToRegions","Resource":"*","Condition":{"ForAllValues:StringNotEquals":{"secretsmanager:AddReplicaRegions":["cn-north-1","us-gov-west-1"]}}}}"#;
const ANY_IFEXISTS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"Env"}}}}"#;
const NUMERIC_IFEXISTS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThanIfExists":{"secretsmanager:RecoveryWindowInDays":"30"}}}}"#;
const MULTI_KEY_OR: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/Env":["dev","test"]}}}}"#;
const KEY_CASE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"stringequals":{"AWS:RESOURCETAG/ENV":"dev"}}}}"#;
const PTYPE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}}}"#;
const PACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}}"#;
const PARN_ROLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app"}}}}"#;
const USERID_LIKE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"AROAAPP00000000000001:*"}}}}"#;
const BAD_NUMBER: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"t:n":"ten"}}}}"#;
const BAD_CIDR: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}}}"#;

// Variables.
const HOME_VAR: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*"}}"#;
const HOME_VAR_2008: &str = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*"}}"#;
const HOME_VAR_NOVER: &str = r#"{"Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:home/${aws:username}/*"}}"#;
const ABAC: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/Team":"${aws:PrincipalTag/team}"}}}}"#;
const ABAC_NOT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/Team":"${aws:PrincipalTag/team}"}}}]}"#;
const VAR_DEFAULT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team, 'shared'}/*"}}"#;
const VAR_ESCAPES: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"t:s":"a${*}b${?}${$}*"}}}}"#;
const VAR_CTX: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/Owner":"${aws:username}"}}}}"#;
const VAR_USERID: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:userid}-*"}}"#;
const VAR_ARN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"t:arn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}}}"#;
const VAR_MULTI: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"t:x":"${aws:TagKeys}"}}}}"#;
const VAR_LIKE_LITERAL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"t:x":"${t:pattern}"}}}}"#;

// Boundaries and session policies.
const BOUNDARY_GET: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"*"}}"#;
const BOUNDARY_DENY_PROD: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:prod/*"}]}"#;
const SESSION_DESCRIBE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:DescribeSecret","Resource":"*"}}"#;
const SESSION_DENY_GET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;

// Resource policies (attached to a secret).
const RP_USER_ALICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
const RP_ROLE_APP: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
const RP_SESSION: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s1"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
const RP_ACCOUNT_A: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
const RP_ACCOUNT_B: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
const RP_ROLE_EXT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/svc/ext"]},"Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"*"}}"#;
const RP_USER_CAROL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"secretsmanager:*","Resource":"*"}}"#;
const RP_PUBLIC: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}}"#;
const RP_DENY_ALICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"secretsmanager:*","Resource":"*"}}"#;
const RP_DENY_ALL_DELETE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"}}"#;
const RP_DENY_NOT_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","111122223333"]},"Action":"secretsmanager:*","Resource":"*"}}"#;
const RP_DENY_NOT_SESSION: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::111122223333:assumed-role/app/s1","arn:aws:iam::111122223333:role/app","111122223333"]},"Action":"*","Resource":"*"}}"#;
const RP_DENY_NOT_ROLE_ONLY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/app","111122223333"]},"Action":"*","Resource":"*"}}"#;
const RP_SERVICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*","Resource":"*"}}"#;
const RP_OTHER_SECRET: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:444455556666:secret:other-AbCdEf"}}"#;
const RP_ORG: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}}"#;
const RP_UNIQUE_ID: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"AIDAALICE000000000001"},"Action":"*","Resource":"*"}}"#;

// Trust policies.
const TP_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#;
const TP_ALICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}}"#;
const TP_ROLE_APP: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":["sts:AssumeRole","sts:TagSession"]}}"#;
const TP_B: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique-42"}}}}"#;
const TP_SERVICE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
const TP_DENY_CAROL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_ASSUME_TARGET: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/target"}}"#;
const ALLOW_ASSUME_ANY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#;

// ---- The harness ---------------------------------------------------------------------------

/// Collects failures so one run reports every broken line.
struct Table {
    failures: Vec<String>,
    cases: usize,
}

impl Table {
    fn new() -> Table {
        Table {
            failures: Vec::new(),
            cases: 0,
        }
    }

    #[track_caller]
    fn case(&mut self) -> Case<'_> {
        Case {
            table: self,
            line: Location::caller().line(),
            who: alice(),
            action: GET.to_string(),
            resource: PROD_DB.to_string(),
            account: None,
            identity: Vec::new(),
            boundary: None,
            session: None,
            resource_doc: None,
            kind: ResourcePolicyKind::Resource,
            ctx: ConditionContext::new(),
            parse_failed: None,
        }
    }

    fn fail(&mut self, line: u32, what: String) {
        self.failures.push(format!("line {line}: {what}"));
    }

    /// A document that must be rejected with exactly `message`.
    #[track_caller]
    fn rejects(&mut self, kind: PolicyKind, json: &str, message: &str) {
        self.cases += 1;
        let line = Location::caller().line();
        match PolicyDocument::parse(json, kind) {
            Ok(_) => self.fail(line, format!("parsed, expected error {message:?}")),
            Err(e) if e.message != message => {
                self.fail(line, format!("error {:?}, expected {message:?}", e.message))
            }
            Err(_) => {}
        }
    }

    /// A document that must parse.
    #[track_caller]
    fn accepts(&mut self, kind: PolicyKind, json: &str) {
        self.cases += 1;
        let line = Location::caller().line();
        if let Err(e) = PolicyDocument::parse(json, kind) {
            self.fail(line, format!("rejected: {}", e.message));
        }
    }

    /// `grants_public_access` of a resource policy.
    #[track_caller]
    fn public(&mut self, json: &str, expected: bool) {
        self.cases += 1;
        let line = Location::caller().line();
        match PolicyDocument::parse(json, PolicyKind::Resource) {
            Ok(d) if d.grants_public_access() != expected => {
                self.fail(line, format!("grants_public_access != {expected}"))
            }
            Ok(_) => {}
            Err(e) => self.fail(line, format!("rejected: {}", e.message)),
        }
    }

    /// `validate_resource_policy` reports exactly these check names.
    #[track_caller]
    fn findings(&mut self, json: &str, expected: &[&str]) {
        self.cases += 1;
        let line = Location::caller().line();
        let got: Vec<String> = validate_resource_policy(json)
            .into_iter()
            .map(|f| f.check_name)
            .collect();
        if got != expected {
            self.fail(line, format!("findings {got:?}, expected {expected:?}"));
        }
    }

    fn finish(self, minimum: usize) {
        assert!(
            self.failures.is_empty(),
            "{} of {} cases failed:\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
        assert!(self.cases >= minimum, "only {} cases", self.cases);
    }
}

/// One request being built.
struct Case<'t> {
    table: &'t mut Table,
    line: u32,
    who: Principal,
    action: String,
    resource: String,
    account: Option<String>,
    identity: Vec<Arc<PolicyDocument>>,
    boundary: Option<PolicyDocument>,
    session: Option<Vec<Arc<PolicyDocument>>>,
    resource_doc: Option<PolicyDocument>,
    kind: ResourcePolicyKind,
    ctx: ConditionContext,
    parse_failed: Option<String>,
}

impl Case<'_> {
    fn parse(&mut self, json: &str, kind: PolicyKind) -> Option<PolicyDocument> {
        match PolicyDocument::parse(json, kind) {
            Ok(d) => Some(d),
            Err(e) => {
                self.parse_failed = Some(e.message);
                None
            }
        }
    }
    fn who(mut self, p: Principal) -> Self {
        self.who = p;
        self
    }
    fn act(mut self, a: &str) -> Self {
        self.action = a.to_string();
        self
    }
    fn on(mut self, r: &str) -> Self {
        self.resource = r.to_string();
        self
    }
    fn acct(mut self, a: &str) -> Self {
        self.account = Some(a.to_string());
        self
    }
    fn id(mut self, json: &str) -> Self {
        if let Some(d) = self.parse(json, PolicyKind::Identity) {
            self.identity.push(Arc::new(d));
        }
        self
    }
    fn bnd(mut self, json: &str) -> Self {
        self.boundary = self.parse(json, PolicyKind::Identity);
        self
    }
    fn sess(mut self, json: &str) -> Self {
        if let Some(d) = self.parse(json, PolicyKind::Identity) {
            self.session.get_or_insert_with(Vec::new).push(Arc::new(d));
        }
        self
    }
    fn rp(mut self, json: &str) -> Self {
        self.resource_doc = self.parse(json, PolicyKind::Resource);
        self.kind = ResourcePolicyKind::Resource;
        self
    }
    fn tp(mut self, json: &str) -> Self {
        self.resource_doc = self.parse(json, PolicyKind::Trust);
        self.kind = ResourcePolicyKind::Trust;
        if self.action == GET {
            self.action = ASSUME.to_string();
        }
        if self.resource == PROD_DB {
            self.resource = ROLE_TARGET.to_string();
        }
        self
    }
    fn ctx(mut self, k: &str, v: &str) -> Self {
        self.ctx.set(k, v);
        self
    }
    fn multi(mut self, k: &str, v: &[&str]) -> Self {
        self.ctx
            .set_multi(k, v.iter().map(|s| s.to_string()).collect());
        self
    }
    fn time(mut self, unix: i64) -> Self {
        self.ctx.set_request_time(unix);
        self
    }

    fn decide(&self) -> Decision {
        let account =
            self.account
                .clone()
                .unwrap_or_else(|| match self.resource.split(':').nth(4) {
                    Some(a) if !a.is_empty() => a.to_string(),
                    _ => self.who.account_id.clone(),
                });
        let req = EvalRequest {
            principal: &self.who,
            action: &self.action,
            resource: &self.resource,
            resource_account: &account,
            context: &self.ctx,
        };
        let set = PolicySet {
            identity: &self.identity,
            boundary: self.boundary.as_ref(),
            session: self.session.as_deref(),
            resource: self.resource_doc.as_ref(),
            resource_kind: self.kind,
        };
        evaluate(&req, &set)
    }

    fn expect(self, expected: Decision) {
        self.table.cases += 1;
        if let Some(e) = &self.parse_failed {
            let msg = format!("policy rejected: {e}");
            self.table.fail(self.line, msg);
            return;
        }
        let got = self.decide();
        if got != expected {
            let msg = format!("got {got:?}, expected {expected:?}");
            self.table.fail(self.line, msg);
        }
    }
    fn allow(self) {
        self.expect(Decision::Allow)
    }
    /// Implicit deny naming `t`.
    fn deny(self, t: PolicyType) {
        self.expect(Decision::Deny(Denial {
            explicit: false,
            policy_type: t,
        }))
    }
    /// Explicit deny in `t`.
    fn xdeny(self, t: PolicyType) {
        self.expect(Decision::Deny(Denial {
            explicit: true,
            policy_type: t,
        }))
    }
    /// The denial message, with the resource shown as `shown` (None for `*`).
    fn msg(self, shown: Option<&str>, expected: &str) {
        self.table.cases += 1;
        let got = match self.decide() {
            Decision::Allow => "allowed".to_string(),
            Decision::Deny(d) => d.message(&self.who.arn, &self.action, shown),
        };
        if got != expected {
            let msg = format!("message {got:?}\n  expected {expected:?}");
            self.table.fail(self.line, msg);
        }
    }
}

// ---- The tables ----------------------------------------------------------------------------

#[test]
fn identity_policies() {
    let mut t = Table::new();
    t.case().id(ALLOW_ALL).allow();
    t.case().id(ALLOW_SM).allow();
    t.case().id(ALLOW_SM).act("kms:Decrypt").deny(ID);
    t.case().deny(ID);
    t.case().who(bob()).deny(ID);
    t.case().who(app()).deny(ID);
    t.case().id(ALLOW_GET).allow();
    t.case().id(ALLOW_GET).act(DESCRIBE).deny(ID);
    t.case().id(ALLOW_GET).id(ALLOW_DESCRIBE_WILD).act(DESCRIBE).allow();
    t.case().id(ALLOW_GET_PROD).allow();
    t.case().id(ALLOW_GET_PROD).act(DESCRIBE).on(EU_DB).allow();
    t.case().id(ALLOW_GET_PROD).on(DEV_APP).deny(ID);
    t.case().id(ALLOW_GET_PROD).act(PUT).deny(ID);
    t.case().id(ALLOW_SUFFIX6).allow();
    t.case().id(ALLOW_SUFFIX6).on(PROD_DB_X).deny(ID);
    t.case().id(ALLOW_GET_PROD).on(PROD_DB_X).allow();
    t.case().id(ALLOW_DESCRIBE_WILD).act(DESCRIBE).allow();
    t.case().id(ALLOW_DESCRIBE_WILD).act("secretsmanager:DescribeSecretX").allow();
    t.case().id(ALLOW_DESCRIBE_WILD).act(GET).deny(ID);
    t.case().id(ALLOW_GET_QMARK).allow();
    t.case().id(ALLOW_GET_QMARK).act("secretsmanager:PetSecretValue").allow();
    t.case().id(ALLOW_GET_QMARK).act("secretsmanager:etSecretValue").deny(ID);
    t.case().id(ALLOW_MIXED_CASE).allow();
    t.case().id(ALLOW_MIXED_CASE).act("SECRETSMANAGER:GETSECRETVALUE").allow();
    t.case().id(ALLOW_UPPER_RES).deny(ID);
    t.case().id(ALLOW_UPPER_RES).on("arn:aws:secretsmanager:us-east-1:111122223333:secret:PROD/x").allow();
    t.case().id(DENY_DELETE).act(DELETE).xdeny(ID);
    t.case().id(DENY_DELETE).act(PUT).allow();
    t.case().id(ALLOW_ALL).id(DENY_PROD).xdeny(ID);
    t.case().id(ALLOW_ALL).id(DENY_PROD).on(DEV_APP).allow();
    t.case().id(DENY_PROD).on(DEV_APP).deny(ID);
    t.case().id(NOT_ACTION).allow();
    t.case().id(NOT_ACTION).act(DELETE).deny(ID);
    t.case().id(NOT_ACTION).act(PUT).deny(ID);
    t.case().id(NOT_ACTION).act("kms:Decrypt").allow();
    t.case().id(ALLOW_ALL).id(DENY_NOT_ACTION).xdeny(ID);
    t.case().id(ALLOW_ALL).id(DENY_NOT_ACTION).act(DESCRIBE).allow();
    t.case().id(NOT_RESOURCE).deny(ID);
    t.case().id(NOT_RESOURCE).on(DEV_APP).allow();
    t.case().id(NOT_RESOURCE).on("*").act(LIST).allow();
    t.case().id(DENY_NOT_RESOURCE).xdeny(ID);
    t.case().id(DENY_NOT_RESOURCE).on(DEV_APP).allow();
    t.case().id(REGION_ONLY).allow();
    t.case().id(REGION_ONLY).on(EU_DB).deny(ID);
    t.case().id(ALLOW_LIST_STAR).act(LIST).on("*").allow();
    t.case().id(ALLOW_GET_PROD).act(LIST).on("*").deny(ID);
    t.case().id(EMPTY_COND).allow();
    t.case().who(root_a()).allow();
    t.case().who(root_a()).act(DELETE).on(DEV_APP).allow();
    t.case().who(root_a()).id(DENY_PROD).allow();
    t.case().who(root_a()).act(LIST).on("*").allow();
    t.case().who(app()).id(ALLOW_GET).allow();
    t.case().who(bob()).id(ALLOW_GET).id(DENY_PROD).xdeny(ID);
    t.finish(50);
}

#[test]
fn condition_operators() {
    let mut t = Table::new();
    // IpAddress / NotIpAddress (AWS example: deny outside corporate ranges).
    t.case().id(IP_ALLOW).ctx("aws:SourceIp", "192.0.2.44").allow();
    t.case().id(IP_ALLOW).ctx("aws:SourceIp", "203.0.113.7").allow();
    t.case().id(IP_ALLOW).ctx("aws:SourceIp", "203.0.113.8").deny(ID);
    t.case().id(IP_ALLOW).ctx("aws:SourceIp", "2001:db8:1::5").allow();
    t.case().id(IP_ALLOW).ctx("aws:SourceIp", "2001:db9::5").deny(ID);
    t.case().id(IP_ALLOW).ctx("aws:SourceIp", "not-an-ip").deny(ID);
    t.case().id(IP_ALLOW).deny(ID);
    t.case().id(IP_DENY).ctx("aws:SourceIp", "192.0.2.1").allow();
    t.case().id(IP_DENY).ctx("aws:SourceIp", "203.0.113.200").allow();
    t.case().id(IP_DENY).ctx("aws:SourceIp", "10.0.0.1").xdeny(ID);
    t.case().id(IP_DENY).xdeny(ID);
    t.case().id(BAD_CIDR).ctx("aws:SourceIp", "10.0.0.1").deny(ID);
    // StringNotEquals / IfExists (AWS example: restrict to a VPC endpoint).
    t.case().id(VPCE_DENY).ctx("aws:SourceVpce", "vpce-1a2b3c4d").allow();
    t.case().id(VPCE_DENY).ctx("aws:SourceVpce", "vpce-other").xdeny(ID);
    t.case().id(VPCE_DENY).xdeny(ID);
    t.case().id(VPCE_DENY).act(DESCRIBE).allow();
    t.case().id(VPCE_DENY_IFEXISTS).xdeny(ID);
    t.case().id(VPCE_DENY_IFEXISTS).ctx("aws:SourceVpce", "vpce-1a2b3c4d").allow();
    t.case().id(VPCE_DENY_IFEXISTS).ctx("aws:SourceVpce", "vpce-other").xdeny(ID);
    // StringEquals and absent keys (boto3#2957: default stage is an absent key).
    t.case().id(STAGE_CURRENT).ctx("secretsmanager:VersionStage", "AWSCURRENT").allow();
    t.case().id(STAGE_CURRENT).ctx("secretsmanager:VersionStage", "AWSPREVIOUS").deny(ID);
    t.case().id(STAGE_CURRENT).ctx("secretsmanager:VersionStage", "awscurrent").deny(ID);
    t.case().id(STAGE_CURRENT).deny(ID);
    t.case().id(STAGE_CURRENT_IFEXISTS).allow();
    t.case().id(STAGE_CURRENT_IFEXISTS).ctx("secretsmanager:VersionStage", "AWSPENDING").deny(ID);
    t.case().id(STAGE_ANY).deny(ID);
    t.case().id(STAGE_ANY).ctx("secretsmanager:VersionStage", "AWSCURRENT").allow();
    // IgnoreCase.
    t.case().id(IGNORE_CASE).ctx("aws:ResourceTag/Env", "PROD").allow();
    t.case().id(IGNORE_CASE).ctx("aws:ResourceTag/Env", "prod").allow();
    t.case().id(IGNORE_CASE).ctx("aws:ResourceTag/Env", "dev").deny(ID);
    t.case().id(NOT_IGNORE_CASE).ctx("aws:ResourceTag/Env", "dev").allow();
    t.case().id(NOT_IGNORE_CASE).ctx("aws:ResourceTag/Env", "STAGING").deny(ID);
    t.case().id(NOT_IGNORE_CASE).allow();
    // StringLike / StringNotLike.
    t.case().id(LIKE).ctx("aws:ResourceTag/Project", "alpha-1").allow();
    t.case().id(LIKE).ctx("aws:ResourceTag/Project", "beta-42").allow();
    t.case().id(LIKE).ctx("aws:ResourceTag/Project", "beta-421").deny(ID);
    t.case().id(LIKE).ctx("aws:ResourceTag/Project", "ALPHA-1").deny(ID);
    t.case().id(NOT_LIKE_DENY).ctx("secretsmanager:Name", "app/db").allow();
    t.case().id(NOT_LIKE_DENY).ctx("secretsmanager:Name", "svc/x").allow();
    t.case().id(NOT_LIKE_DENY).ctx("secretsmanager:Name", "other").xdeny(ID);
    t.case().id(NOT_LIKE_DENY).xdeny(ID);
    // AND across keys and operators, OR across values.
    t.case().id(TAG_EQ_AND_NE).ctx("aws:ResourceTag/Env", "prod").ctx("aws:ResourceTag/Team", "blue").allow();
    t.case().id(TAG_EQ_AND_NE).ctx("aws:ResourceTag/Env", "prod").deny(ID);
    t.case().id(TAG_EQ_AND_NE).ctx("aws:ResourceTag/Env", "prod").ctx("aws:ResourceTag/Team", "blue").ctx("aws:ResourceTag/Owner", "mallory").deny(ID);
    t.case().id(MULTI_KEY_OR).ctx("aws:ResourceTag/Env", "test").allow();
    t.case().id(MULTI_KEY_OR).ctx("aws:ResourceTag/Env", "prod").deny(ID);
    t.case().id(KEY_CASE).ctx("aws:resourcetag/env", "dev").allow();
    t.case().id(KEY_CASE).ctx("aws:ResourceTag/Env", "DEV").deny(ID);
    // Numeric.
    t.case().id(NUM_RECOVERY).act(DELETE).ctx("secretsmanager:RecoveryWindowInDays", "7").allow();
    t.case().id(NUM_RECOVERY).act(DELETE).ctx("secretsmanager:RecoveryWindowInDays", "30").allow();
    t.case().id(NUM_RECOVERY).act(DELETE).ctx("secretsmanager:RecoveryWindowInDays", "6").deny(ID);
    t.case().id(NUM_RECOVERY).act(DELETE).deny(ID);
    t.case().id(NUM_FAMILY).act("test:Eq").ctx("t:n", "10.0").allow();
    t.case().id(NUM_FAMILY).act("test:Eq").ctx("t:n", "11").deny(ID);
    t.case().id(NUM_FAMILY).act("test:Ne").ctx("t:n", "15").allow();
    t.case().id(NUM_FAMILY).act("test:Ne").ctx("t:n", "20").deny(ID);
    t.case().id(NUM_FAMILY).act("test:Ne").allow();
    t.case().id(NUM_FAMILY).act("test:Lt").ctx("t:n", "9.99").allow();
    t.case().id(NUM_FAMILY).act("test:Lt").ctx("t:n", "10").deny(ID);
    t.case().id(NUM_FAMILY).act("test:Le").ctx("t:n", "10").allow();
    t.case().id(NUM_FAMILY).act("test:Gt").ctx("t:n", "10").deny(ID);
    t.case().id(NUM_FAMILY).act("test:Gt").ctx("t:n", "-1e3").deny(ID);
    t.case().id(NUM_FAMILY).act("test:Ge").ctx("t:n", "10.5").allow();
    t.case().id(NUM_FAMILY).act("test:Ge").ctx("t:n", "abc").deny(ID);
    t.case().id(BAD_NUMBER).ctx("t:n", "10").deny(ID);
    t.case().id(NUMERIC_IFEXISTS).allow();
    t.case().id(NUMERIC_IFEXISTS).ctx("secretsmanager:RecoveryWindowInDays", "7").allow();
    t.case().id(NUMERIC_IFEXISTS).ctx("secretsmanager:RecoveryWindowInDays", "30").deny(ID);
    // Date (AWS example: allow within a date range), ISO 8601 and epoch.
    t.case().id(DATE_WINDOW).ctx("aws:CurrentTime", "2020-05-01T12:00:00Z").allow();
    t.case().id(DATE_WINDOW).ctx("aws:CurrentTime", "2020-07-01T00:00:00Z").deny(ID);
    t.case().id(DATE_WINDOW).ctx("aws:CurrentTime", "2020-04-01T00:00:00Z").deny(ID);
    t.case().id(DATE_WINDOW).time(1_588_334_400).allow();
    t.case().id(DATE_WINDOW).time(1_700_000_000).deny(ID);
    t.case().id(DATE_WINDOW).deny(ID);
    t.case().id(DATE_FAMILY).act("test:Eq").ctx("t:d", "1609459200").allow();
    t.case().id(DATE_FAMILY).act("test:Eq").ctx("t:d", "2021-01-01T00:00:01Z").deny(ID);
    t.case().id(DATE_FAMILY).act("test:Ne").ctx("t:d", "2021-01-02").allow();
    t.case().id(DATE_FAMILY).act("test:Ne").ctx("t:d", "2021-01-01T00:00:00Z").deny(ID);
    t.case().id(DATE_FAMILY).act("test:Le").ctx("t:d", "2020-12-31T23:00:00Z").allow();
    t.case().id(DATE_FAMILY).act("test:Ge").ctx("t:d", "2021-01-01T00:00:00Z").allow();
    t.case().id(DATE_FAMILY).act("test:Ge").ctx("t:d", "garbage").deny(ID);
    t.case().id(EPOCH_BEFORE).ctx("aws:EpochTime", "1699999999").allow();
    t.case().id(EPOCH_BEFORE).ctx("aws:EpochTime", "1700000000").deny(ID);
    // Bool (AWS examples: SecureTransport, MFA with BoolIfExists).
    t.case().id(SECURE_TRANSPORT).ctx("aws:SecureTransport", "true").allow();
    t.case().id(SECURE_TRANSPORT).ctx("aws:SecureTransport", "false").xdeny(ID);
    t.case().id(SECURE_TRANSPORT).allow();
    t.case().id(MFA_DENY).act(DELETE).xdeny(ID);
    t.case().id(MFA_DENY).act(DELETE).ctx("aws:MultiFactorAuthPresent", "true").allow();
    t.case().id(MFA_DENY).act(DELETE).ctx("aws:MultiFactorAuthPresent", "false").xdeny(ID);
    t.case().id(MFA_DENY).act(GET).allow();
    // BinaryEquals.
    t.case().id(BINARY).ctx("t:blob", "QmluYXJ5VmFsdWU=").allow();
    t.case().id(BINARY).ctx("t:blob", "T3RoZXI=").deny(ID);
    // Arn operators.
    t.case().id(ARN_LAMBDA).act("secretsmanager:RotateSecret").ctx("secretsmanager:RotationLambdaARN", "arn:aws:lambda:us-east-1:111122223333:function:rotate-db").allow();
    t.case().id(ARN_LAMBDA).act("secretsmanager:RotateSecret").ctx("secretsmanager:RotationLambdaARN", "arn:aws:lambda:us-east-1:444455556666:function:rotate-db").deny(ID);
    t.case().id(ARN_LAMBDA).act("secretsmanager:RotateSecret").deny(ID);
    t.case().id(ARN_EQUALS).ctx("aws:SourceArn", "arn:aws:lambda:us-east-1:111122223333:function:f").allow();
    t.case().id(ARN_EQUALS).ctx("aws:SourceArn", "arn:aws:lambda:us-east-1:111122223333:function:g").deny(ID);
    t.case().id(ARN_EQUALS).ctx("aws:SourceArn", "not-an-arn").deny(ID);
    t.case().id(ARN_STAR_COLON).ctx("aws:SourceArn", "arn:aws:lambda:us-east-1:111122223333:function:f").deny(ID);
    t.case().id(ARN_NOT_LIKE_DENY).who(alice()).allow();
    t.case().id(ARN_NOT_LIKE_DENY).who(bob()).xdeny(ID);
    t.case().id(ARN_NOT_LIKE_DENY).who(Principal::session(A, "/", "admin-ops", "AROAADMIN000000000001", "x")).allow();
    t.case().id(ARN_NOT_LIKE_DENY).who(app()).xdeny(ID);
    // Null (AWS examples: forbid replication, require a tag on create).
    t.case().id(NULL_REPLICA).act(CREATE).allow();
    t.case().id(NULL_REPLICA).act(CREATE).multi("secretsmanager:AddReplicaRegions", &["eu-west-1"]).xdeny(ID);
    t.case().id(NULL_REPLICA).act(CREATE).multi("secretsmanager:AddReplicaRegions", &[]).allow();
    t.case().id(REQUIRE_TAG).act(CREATE).xdeny(ID);
    t.case().id(REQUIRE_TAG).act(CREATE).ctx("aws:RequestTag/CostCenter", "42").allow();
    // ForAllValues / ForAnyValue on multivalued keys.
    t.case().id(TAGKEYS_ALL).act(TAG).multi("aws:TagKeys", &["Env"]).allow();
    t.case().id(TAGKEYS_ALL).act(TAG).multi("aws:TagKeys", &["Env", "Team"]).allow();
    t.case().id(TAGKEYS_ALL).act(TAG).multi("aws:TagKeys", &["Env", "Owner"]).deny(ID);
    t.case().id(TAGKEYS_ALL).act(TAG).allow();
    t.case().id(TAGKEYS_ALL).act(CREATE).multi("aws:TagKeys", &[]).allow();
    t.case().id(TAGKEYS_ALL_NN).act(TAG).deny(ID);
    t.case().id(TAGKEYS_ALL_NN).act(TAG).multi("aws:TagKeys", &["Team"]).allow();
    t.case().id(TAGKEYS_ANY_DENY).act(TAG).multi("aws:TagKeys", &["Env", "aws:cloudformation"]).xdeny(ID);
    t.case().id(TAGKEYS_ANY_DENY).act(TAG).multi("aws:TagKeys", &["Env"]).allow();
    t.case().id(TAGKEYS_ANY_DENY).act(TAG).allow();
    t.case().id(REGIONS_ALL_NOT).act("secretsmanager:ReplicateSecretToRegions").multi("secretsmanager:AddReplicaRegions", &["eu-west-1", "us-west-2"]).allow();
    t.case().id(REGIONS_ALL_NOT).act("secretsmanager:ReplicateSecretToRegions").multi("secretsmanager:AddReplicaRegions", &["eu-west-1", "cn-north-1"]).deny(ID);
    t.case().id(ANY_IFEXISTS).allow();
    t.case().id(ANY_IFEXISTS).multi("aws:TagKeys", &["Team"]).deny(ID);
    t.case().id(ANY_IFEXISTS).multi("aws:TagKeys", &["Team", "Env"]).allow();
    t.case().id(STAGE_CURRENT).multi("secretsmanager:VersionStage", &["AWSPENDING", "AWSCURRENT"]).allow();
    // Keys derived from the principal.
    t.case().id(PTYPE).who(app()).allow();
    t.case().id(PTYPE).who(alice()).deny(ID);
    t.case().id(PTYPE).who(alice()).ctx("aws:PrincipalType", "AssumedRole").deny(ID);
    t.case().id(PACCOUNT).allow();
    t.case().id(PACCOUNT).who(carol()).acct(B).deny(ID);
    t.case().id(PARN_ROLE).who(app()).allow();
    t.case().id(PARN_ROLE).who(alice()).deny(ID);
    t.case().id(USERID_LIKE).who(app()).allow();
    t.case().id(USERID_LIKE).who(Principal::session(A, "/", "app", "AROAOTHER00000000001", "s1")).deny(ID);
    t.finish(120);
}

#[test]
fn policy_variables() {
    let mut t = Table::new();
    t.case().id(HOME_VAR).on(HOME_ALICE).allow();
    t.case().id(HOME_VAR).on(HOME_BOB).deny(ID);
    t.case().id(HOME_VAR).who(bob()).on(HOME_BOB).allow();
    t.case().id(HOME_VAR).who(app()).on(HOME_ALICE).deny(ID);
    t.case().id(HOME_VAR).who(root_b()).acct(A).on(HOME_ALICE).deny(RB);
    t.case().id(HOME_VAR_2008).on(HOME_ALICE).deny(ID);
    t.case().id(HOME_VAR_2008).on("arn:aws:secretsmanager:us-east-1:111122223333:secret:home/${aws:username}/x").allow();
    t.case().id(HOME_VAR_NOVER).on(HOME_ALICE).deny(ID);
    t.case().id(ABAC).ctx("aws:ResourceTag/Team", "blue").allow();
    t.case().id(ABAC).ctx("aws:ResourceTag/Team", "red").deny(ID);
    t.case().id(ABAC).deny(ID);
    t.case().id(ABAC).who(bob()).ctx("aws:ResourceTag/Team", "red").allow();
    t.case().id(ABAC).who(carol()).acct(B).ctx("aws:ResourceTag/Team", "").deny(ID);
    t.case().id(ABAC).who(app()).ctx("aws:ResourceTag/Team", "blue").allow();
    t.case().id(ABAC_NOT).ctx("aws:ResourceTag/Team", "blue").allow();
    t.case().id(ABAC_NOT).ctx("aws:ResourceTag/Team", "red").xdeny(ID);
    t.case().id(ABAC_NOT).who(carol()).acct(B).ctx("aws:ResourceTag/Team", "red").xdeny(ID);
    t.case().id(VAR_DEFAULT).on("arn:aws:secretsmanager:us-east-1:111122223333:secret:blue/x").allow();
    t.case().id(VAR_DEFAULT).on("arn:aws:secretsmanager:us-east-1:111122223333:secret:shared/x").deny(ID);
    t.case().id(VAR_DEFAULT).who(carol()).acct(B).on("arn:aws:secretsmanager:us-east-1:444455556666:secret:shared/x").allow();
    t.case().id(VAR_ESCAPES).ctx("t:s", "a*b?$tail").allow();
    t.case().id(VAR_ESCAPES).ctx("t:s", "axb?$").deny(ID);
    t.case().id(VAR_ESCAPES).ctx("t:s", "a*bx$").deny(ID);
    t.case().id(VAR_CTX).ctx("aws:RequestTag/Owner", "alice").allow();
    t.case().id(VAR_CTX).ctx("aws:RequestTag/Owner", "bob").deny(ID);
    t.case().id(VAR_CTX).who(app()).ctx("aws:RequestTag/Owner", "app").deny(ID);
    t.case().id(VAR_USERID).on("arn:aws:secretsmanager:us-east-1:111122223333:secret:AIDAALICE000000000001-x").allow();
    t.case().id(VAR_USERID).who(app()).on("arn:aws:secretsmanager:us-east-1:111122223333:secret:AROAAPP00000000000001:s1-x").allow();
    t.case().id(VAR_ARN).ctx("t:arn", "arn:aws:iam::111122223333:role/x").allow();
    t.case().id(VAR_ARN).ctx("t:arn", "arn:aws:iam::444455556666:role/x").deny(ID);
    t.case().id(VAR_MULTI).multi("aws:TagKeys", &["a"]).ctx("t:x", "a").deny(ID);
    t.case().id(VAR_LIKE_LITERAL).ctx("t:pattern", "a*").ctx("t:x", "a*").allow();
    t.case().id(VAR_LIKE_LITERAL).ctx("t:pattern", "a*").ctx("t:x", "abc").deny(ID);
    t.finish(30);
}

#[test]
fn resource_and_cross_account() {
    let mut t = Table::new();
    // Same account: a resource policy naming the user or session grants on its own.
    t.case().rp(RP_USER_ALICE).allow();
    t.case().rp(RP_USER_ALICE).act(DESCRIBE).deny(ID);
    t.case().rp(RP_USER_ALICE).who(bob()).deny(ID);
    t.case().rp(RP_USER_ALICE).bnd(BOUNDARY_DENY_PROD).xdeny(PB);
    t.case().rp(RP_USER_ALICE).bnd(SESSION_DESCRIBE).allow();
    t.case().rp(RP_SESSION).who(app()).allow();
    t.case().rp(RP_SESSION).who(app()).sess(SESSION_DESCRIBE).allow();
    t.case().rp(RP_SESSION).who(Principal::session(A, "/", "app", "AROAAPP00000000000001", "s2")).deny(ID);
    // A role principal covers all sessions, limited by boundary and session policies.
    t.case().rp(RP_ROLE_APP).who(app()).allow();
    t.case().rp(RP_ROLE_APP).who(Principal::session(A, "/", "app", "AROAAPP00000000000001", "s9")).allow();
    t.case().rp(RP_ROLE_APP).who(app()).sess(SESSION_DESCRIBE).deny(SE);
    t.case().rp(RP_ROLE_APP).who(app()).bnd(SESSION_DESCRIBE).deny(PB);
    t.case().rp(RP_ROLE_APP).who(alice()).deny(ID);
    t.case().rp(RP_ROLE_APP).who(Principal::session(A, "/x/", "app", "AROAAPP00000000000001", "s1")).deny(ID);
    // An account principal delegates to identity policies.
    t.case().rp(RP_ACCOUNT_A).deny(ID);
    t.case().rp(RP_ACCOUNT_A).id(ALLOW_GET).allow();
    t.case().rp(RP_ACCOUNT_A).id(ALLOW_GET).who(app()).allow();
    // Public and service principals.
    t.case().rp(RP_PUBLIC).allow();
    t.case().rp(RP_PUBLIC).who(app()).sess(SESSION_DESCRIBE).deny(SE);
    t.case().rp(RP_PUBLIC).who(carol()).deny(ID);
    t.case().rp(RP_PUBLIC).who(carol()).id(ALLOW_GET).allow();
    t.case().rp(RP_SERVICE).deny(ID);
    t.case().rp(RP_SERVICE).id(ALLOW_GET).allow();
    t.case().rp(RP_UNIQUE_ID).allow();
    t.case().rp(RP_UNIQUE_ID).who(bob()).deny(ID);
    // Explicit denies in resource policies.
    t.case().rp(RP_DENY_ALICE).id(ALLOW_ALL).xdeny(RB);
    t.case().rp(RP_DENY_ALICE).id(ALLOW_ALL).who(bob()).allow();
    t.case().rp(RP_DENY_ALICE).who(root_a()).allow();
    t.case().rp(RP_DENY_ALL_DELETE).who(root_a()).act(DELETE).xdeny(RB);
    t.case().rp(RP_DENY_ALL_DELETE).id(ALLOW_ALL).act(DELETE).xdeny(RB);
    t.case().rp(RP_DENY_ALL_DELETE).id(ALLOW_ALL).act(PUT).allow();
    t.case().rp(RP_DENY_ALL_DELETE).id(DENY_DELETE).act(DELETE).xdeny(ID);
    // NotPrincipal with Deny: everyone except the listed principals (and their account).
    t.case().rp(RP_DENY_NOT_ADMIN).id(ALLOW_ALL).allow();
    t.case().rp(RP_DENY_NOT_ADMIN).id(ALLOW_ALL).who(bob()).xdeny(RB);
    t.case().rp(RP_DENY_NOT_ADMIN).who(root_a()).allow();
    t.case().rp(RP_DENY_NOT_ADMIN).who(root_b()).xdeny(RB);
    t.case().rp(RP_DENY_NOT_SESSION).id(ALLOW_ALL).who(app()).allow();
    t.case().rp(RP_DENY_NOT_SESSION).id(ALLOW_ALL).who(alice()).xdeny(RB);
    t.case().rp(RP_DENY_NOT_ROLE_ONLY).id(ALLOW_ALL).who(app()).xdeny(RB);
    // Cross-account: both sides must allow.
    t.case().who(carol()).id(ALLOW_ALL).deny(RB);
    t.case().who(carol()).rp(RP_ACCOUNT_B).deny(ID);
    t.case().who(carol()).rp(RP_ACCOUNT_B).id(ALLOW_GET).allow();
    t.case().who(carol()).rp(RP_ACCOUNT_B).id(ALLOW_GET).act(DESCRIBE).deny(ID);
    t.case().who(carol()).rp(RP_ACCOUNT_B).id(ALLOW_SM).act(DESCRIBE).deny(RB);
    t.case().who(carol()).rp(RP_USER_CAROL).deny(ID);
    t.case().who(carol()).rp(RP_USER_CAROL).id(ALLOW_SM).act(DELETE).allow();
    t.case().who(carol()).rp(RP_USER_ALICE).id(ALLOW_SM).deny(RB);
    t.case().who(carol()).rp(RP_PUBLIC).id(ALLOW_SM).allow();
    t.case().who(carol()).rp(RP_ACCOUNT_A).id(ALLOW_SM).deny(RB);
    t.case().who(carol()).rp(RP_OTHER_SECRET).id(ALLOW_SM).deny(RB);
    t.case().who(carol()).rp(RP_ACCOUNT_B).id(ALLOW_GET).bnd(SESSION_DESCRIBE).deny(PB);
    t.case().who(carol()).rp(RP_ACCOUNT_B).id(DENY_PROD).xdeny(ID);
    t.case().who(root_b()).rp(RP_ACCOUNT_B).allow();
    t.case().who(root_b()).deny(RB);
    t.case().who(root_b()).rp(RP_USER_CAROL).deny(RB);
    t.case().who(ext()).rp(RP_ROLE_EXT).id(ALLOW_GET).allow();
    t.case().who(ext()).rp(RP_ROLE_EXT).deny(ID);
    t.case().who(ext()).rp(RP_ROLE_EXT).id(ALLOW_GET).sess(SESSION_DESCRIBE).deny(SE);
    t.case().who(ext()).rp(RP_ROLE_EXT).id(ALLOW_SM).sess(SESSION_DESCRIBE).act(DESCRIBE).allow();
    t.case().who(ext()).rp(RP_ACCOUNT_B).id(ALLOW_GET).allow();
    t.case().who(ext()).rp(RP_ROLE_APP).id(ALLOW_GET).deny(RB);
    t.case().who(ext()).rp(RP_ORG).id(ALLOW_GET).ctx("aws:PrincipalOrgID", "o-abc123").allow();
    t.case().who(ext()).rp(RP_ORG).id(ALLOW_GET).ctx("aws:PrincipalOrgID", "o-zzz").deny(RB);
    t.case().who(ext()).rp(RP_ORG).id(ALLOW_GET).deny(RB);
    // The caller's own secret in another account: the resource account decides the rules.
    t.case().on(B_SECRET).id(ALLOW_ALL).deny(RB);
    t.case().on(B_SECRET).id(ALLOW_ALL).rp(RP_USER_ALICE).allow();
    t.finish(60);
}

#[test]
fn sessions_boundaries_and_trust() {
    let mut t = Table::new();
    // Permissions boundaries: the intersection with identity policies.
    t.case().id(ALLOW_ALL).bnd(BOUNDARY_GET).allow();
    t.case().id(ALLOW_ALL).bnd(BOUNDARY_GET).act(DELETE).deny(PB);
    t.case().id(ALLOW_DESCRIBE_WILD).bnd(BOUNDARY_GET).deny(ID);
    t.case().id(ALLOW_ALL).bnd(BOUNDARY_DENY_PROD).xdeny(PB);
    t.case().id(ALLOW_ALL).bnd(BOUNDARY_DENY_PROD).on(DEV_APP).allow();
    t.case().bnd(ALLOW_ALL).deny(ID);
    t.case().who(app()).id(ALLOW_ALL).bnd(BOUNDARY_GET).allow();
    t.case().who(app()).id(ALLOW_ALL).bnd(BOUNDARY_GET).act(PUT).deny(PB);
    // Session policies: the intersection with the role's policies.
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DESCRIBE).act(DESCRIBE).allow();
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DESCRIBE).deny(SE);
    t.case().who(app()).id(ALLOW_GET).sess(SESSION_DESCRIBE).act(DESCRIBE).deny(ID);
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DESCRIBE).sess(ALLOW_GET).allow();
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DENY_GET).xdeny(SE);
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DENY_GET).act(DESCRIBE).allow();
    t.case().who(app()).id(ALLOW_ALL).bnd(BOUNDARY_GET).sess(SESSION_DESCRIBE).deny(SE);
    t.case().who(app()).id(ALLOW_ALL).bnd(SESSION_DESCRIBE).sess(BOUNDARY_GET).deny(PB);
    t.case().who(app()).id(ALLOW_ALL).bnd(BOUNDARY_GET).sess(BOUNDARY_GET).act(DESCRIBE).allow();
    t.case().who(app()).id(DENY_PROD).sess(ALLOW_ALL).xdeny(ID);
    // Trust policies (resource of sts:AssumeRole).
    t.case().tp(TP_ACCOUNT).deny(ID);
    t.case().tp(TP_ACCOUNT).id(ALLOW_ASSUME_TARGET).allow();
    t.case().tp(TP_ACCOUNT).id(ALLOW_ASSUME_TARGET).on("arn:aws:iam::111122223333:role/other").deny(ID);
    t.case().tp(TP_ACCOUNT).id(ALLOW_ASSUME_ANY).who(app()).allow();
    t.case().tp(TP_ACCOUNT).id(ALLOW_ASSUME_ANY).bnd(BOUNDARY_GET).deny(PB);
    t.case().tp(TP_ALICE).allow();
    t.case().tp(TP_ALICE).who(bob()).deny(TR);
    t.case().tp(TP_ALICE).who(bob()).id(ALLOW_ASSUME_ANY).deny(TR);
    t.case().tp(TP_ALICE).act("sts:TagSession").deny(TR);
    t.case().tp(TP_ROLE_APP).who(app()).allow();
    t.case().tp(TP_ROLE_APP).who(app()).act("sts:TagSession").allow();
    t.case().tp(TP_ROLE_APP).who(app()).sess(SESSION_DESCRIBE).deny(SE);
    t.case().tp(TP_SERVICE).id(ALLOW_ASSUME_ANY).deny(TR);
    t.case().tp(TP_SERVICE).who(root_a()).deny(TR);
    t.case().tp(TP_ACCOUNT).who(root_a()).allow();
    t.case().tp(TP_B).who(carol()).id(ALLOW_ASSUME_ANY).ctx("sts:ExternalId", "Unique-42").allow();
    t.case().tp(TP_B).who(carol()).id(ALLOW_ASSUME_ANY).ctx("sts:ExternalId", "unique-42").deny(TR);
    t.case().tp(TP_B).who(carol()).id(ALLOW_ASSUME_ANY).deny(TR);
    t.case().tp(TP_B).who(carol()).ctx("sts:ExternalId", "Unique-42").deny(ID);
    t.case().tp(TP_B).who(ext()).id(ALLOW_ASSUME_ANY).ctx("sts:ExternalId", "Unique-42").allow();
    t.case().tp(TP_B).who(root_b()).ctx("sts:ExternalId", "Unique-42").allow();
    t.case().tp(TP_DENY_CAROL).who(carol()).id(ALLOW_ASSUME_ANY).xdeny(TR);
    t.case().tp(TP_DENY_CAROL).who(ext()).id(ALLOW_ASSUME_ANY).allow();
    t.finish(40);
}

#[test]
fn denial_messages() {
    let mut t = Table::new();
    let alice_arn = "arn:aws:iam::111122223333:user/alice";
    t.case().msg(Some("prod/db"), &format!("User: {alice_arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/db because no identity-based policy allows the secretsmanager:GetSecretValue action"));
    t.case().act(LIST).on("*").msg(None, &format!("User: {alice_arn} is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action"));
    t.case().id(DENY_DELETE).act(DELETE).msg(Some(PROD_DB), &format!("User: {alice_arn} is not authorized to perform: secretsmanager:DeleteSecret on resource: {PROD_DB} with an explicit deny in an identity-based policy"));
    t.case().rp(RP_DENY_ALICE).id(ALLOW_ALL).act(DESCRIBE).msg(Some("my-example-secret"), &format!("User: {alice_arn} is not authorized to perform: secretsmanager:DescribeSecret on resource: my-example-secret with an explicit deny in a resource-based policy"));
    t.case().who(carol()).id(ALLOW_ALL).msg(Some(PROD_DB), &format!("User: arn:aws:iam::444455556666:user/carol is not authorized to perform: secretsmanager:GetSecretValue on resource: {PROD_DB} because no resource-based policy allows the secretsmanager:GetSecretValue action"));
    t.case().id(ALLOW_ALL).bnd(BOUNDARY_GET).act(PUT).msg(Some("x"), &format!("User: {alice_arn} is not authorized to perform: secretsmanager:PutSecretValue on resource: x because no permissions boundary allows the secretsmanager:PutSecretValue action"));
    t.case().id(ALLOW_ALL).bnd(BOUNDARY_DENY_PROD).msg(Some("x"), &format!("User: {alice_arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: x with an explicit deny in a permissions boundary"));
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DESCRIBE).msg(Some("x"), "User: arn:aws:sts::111122223333:assumed-role/app/s1 is not authorized to perform: secretsmanager:GetSecretValue on resource: x because no session policy allows the secretsmanager:GetSecretValue action");
    t.case().who(app()).id(ALLOW_ALL).sess(SESSION_DENY_GET).msg(Some("x"), "User: arn:aws:sts::111122223333:assumed-role/app/s1 is not authorized to perform: secretsmanager:GetSecretValue on resource: x with an explicit deny in a session policy");
    t.case().tp(TP_ALICE).who(bob()).msg(Some(ROLE_TARGET), &format!("User: arn:aws:iam::111122223333:user/dev/bob is not authorized to perform: sts:AssumeRole on resource: {ROLE_TARGET} because no role trust policy allows the sts:AssumeRole action"));
    t.case().tp(TP_DENY_CAROL).who(carol()).id(ALLOW_ASSUME_ANY).msg(Some(ROLE_TARGET), &format!("User: arn:aws:iam::444455556666:user/carol is not authorized to perform: sts:AssumeRole on resource: {ROLE_TARGET} with an explicit deny in a role trust policy"));
    t.case().id(ALLOW_ALL).msg(None, "allowed");
    t.finish(12);
}

#[test]
fn parse_errors() {
    use PolicyKind::{Identity as I, Resource as R, Trust as T};
    let mut t = Table::new();
    // Inline, boundary and session documents. Several of these rules are our guesses (no
    // AWS-validated inline-policy snapshot exists); for managed policies the snapshots differ:
    // not-JSON and a Version like 2012-10-18 are "Syntax errors in policy.", condition keys
    // need no vendor (see managed_policy_documents).
    t.rejects(I, "", "This policy contains invalid Json");
    t.rejects(I, "{", "This policy contains invalid Json");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":[],}"#, "This policy contains invalid Json");
    t.rejects(I, "[]", "Syntax errors in policy.");
    t.rejects(I, r#""text""#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17"}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":[]}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":"x"}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, "The policy failed legacy parsing");
    t.rejects(I, r#"{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Extra":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Foo":"x"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#, "Policy statement must contain actions.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#, "Policy statement must contain actions.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"x:y","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetSecretValue","Resource":"*"}}"#, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":5,"Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}"#, "Policy statement must contain resources.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"prod/db"}}"#, "Resource prod/db must be in ARN format or \"*\".");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#, "Policy document should not specify a principal.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}}"#, "Policy document should not specify a principal.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":null}}}}"#, "Syntax errors in policy.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"nokey":"c"}}}}"#, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":{"Sid":"has space","Effect":"Allow","Action":"*","Resource":"*"}}"#, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*");
    t.rejects(I, r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}"#, "Statement IDs (SID) in a single policy must be unique.");
    t.accepts(I, r#"{"Version":"2012-10-17","Statement":{"Sid":"Read1","Effect":"Allow","Action":["secretsmanager:Get*","kms:Decrypt"],"Resource":["*"],"Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"x:n":5}}}}"#);
    t.accepts(I, r#"{"Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:user/${aws:username}"}]}"#);
    t.accepts(I, r#"{"Version":"2008-10-17","Id":"x","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    // Resource policies.
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, "Missing required field Principal");
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"*","Resource":"*"}}"#, "Invalid principal in policy: \"AWS\":\"alice\"");
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"*","Resource":"*"}}"#, "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:user/*\"");
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Aws":"111122223333"},"Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"111122223333","Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.rejects(R, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}}"#, "Syntax errors in policy.");
    t.accepts(R, RP_DENY_NOT_SESSION);
    t.accepts(R, r#"{"Version":"2012-10-17","Statement":{"Sid":"Allow the role","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/a/b","AROAAPP00000000000001"],"Service":"lambda.amazonaws.com"},"Action":"*","Resource":"*"}}"#);
    // Trust policies.
    t.rejects(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}}"#, "Has prohibited field Resource");
    t.rejects(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.");
    t.rejects(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:GetCallerIdentity"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.");
    t.rejects(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"NotAction":"sts:AssumeRole"}}"#, "AssumeRole policy may only specify STS AssumeRole actions.");
    t.rejects(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#, "Missing required field Principal");
    t.rejects(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/"},"Action":"sts:AssumeRole"}}"#, "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:user/\"");
    t.accepts(T, TP_ROLE_APP);
    t.accepts(T, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole*"}}"#);
    t.accepts(T, TP_SERVICE);
    t.finish(45);
}

/// `{"Version":"2012-10-17","Statement":<statement>}`.
fn v12(statement: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":{statement}}}"#)
}

/// Managed policies (CreatePolicy, CreatePolicyVersion): IAM's rules and order of checks, one
/// row per case of LocalStack's AWS-validated CreatePolicy snapshots (test_iam_policies.py,
/// `invalid-N` / `valid-N`; the documents here are our own with the same shape).
#[test]
fn managed_policy_documents() {
    use PolicyKind::Managed as M;
    const SYNTAX: &str = "Syntax errors in policy.";
    const VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
    const LEGACY: &str = "The policy failed legacy parsing";
    const VENDOR: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
    const ACTIONS: &str = "Policy statement must contain actions.";
    const RESOURCES: &str = "Policy statement must contain resources.";
    const SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
    const IAM_PATH: &str = "IAM resource path must either be \"*\", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.";
    const OK: &str = r#"{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:app-*"}"#;
    let mut t = Table::new();
    // Invalid documents, in the snapshots' order.
    t.rejects(M, "definitely not json", SYNTAX); // 0
    t.rejects(M, &format!(r#"{{"Statement":{OK}}}"#), VERSION); // 1
    t.rejects(M, &format!(r#"{{"Version":"2008-10-17","Statement":{OK}}}"#), VERSION); // 2
    t.rejects(M, &format!(r#"{{"Version":"2014-01-01","Statement":{OK}}}"#), SYNTAX); // 3
    t.rejects(M, r#"{"Version":"2012-10-17"}"#, SYNTAX); // 4
    t.rejects(M, &v12(r#"["statement"]"#), SYNTAX); // 5
    t.rejects(M, &format!(r#"{{"Version":"2012-10-17","Statement":{OK},"Other":"x"}}"#), SYNTAX); // 6
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Other":"x"}"#), SYNTAX); // 7
    t.rejects(M, &format!(r#"{{"Version":"2012-10-17","Id":["policy-1"],"Statement":{OK}}}"#), SYNTAX); // 8
    t.rejects(M, &format!(r#"{{"Version":"2012-10-17","Id":{{}},"Statement":{OK}}}"#), SYNTAX); // 9
    t.rejects(M, &v12(r#"{"Effect":"Permit","Action":"kms:Decrypt","Resource":"*"}"#), SYNTAX); // 10
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"Decrypt","Resource":"*"}"#), VENDOR); // 11
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"","Resource":"*"}"#), VENDOR); // 12
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"key management:Decrypt","Resource":"*"}"#), "Vendor key management is not valid"); // 13
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Key:Decrypt","Resource":"*"}"#), ONE_COLON); // 14
    t.rejects(M, &v12(r#"[{"Effect":"Allow","Action":"kmsx:Decrypt","Resource":"*"},{"Effect":"Allow","Action":"k:ms:Decrypt","Resource":"*"}]"#), ONE_COLON); // 15
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"my key"}"#), "Resource my key must be in ARN format or \"*\"."); // 16
    t.rejects(M, &v12(r#"[{"Sid":"One","Effect":"Allow","Action":["kms:Decrypt"],"Resource":"","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}},{"Sid":"Two","Effect":"Allow","Action":"kms:ListKeys","Resource":""}]"#), "Resource  must be in ARN format or \"*\"."); // 17
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"k:m:s","Resource":"key"}"#), "Resource key must be in ARN format or \"*\"."); // 18
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":["key"]}"#), "Resource key must be in ARN format or \"*\"."); // 19
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":""}"#), "Resource  must be in ARN format or \"*\"."); // 20
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"x:onlypartition"}"#), "Partition \"onlypartition\" is not valid for resource \"arn:onlypartition:*:*:*:*\"."); // 21
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"x:p:service"}"#), "Partition \"p\" is not valid for resource \"arn:p:service:*:*:*\"."); // 22
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"x:p:s:r:a:r1:r2:r3"}"#), "Partition \"p\" is not valid for resource \"arn:p:s:r:a:r1:r2:r3\"."); // 23
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"aws:kms:::key"}"#), "Partition \"kms\" is not valid for resource \"arn:kms:::key:*\"."); // 24
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":["arn:bogus:kms:::key","arn:bogus:kms::key"]}"#), "Partition \"bogus\" is not valid for resource \"arn:bogus:kms:::key\"."); // 25
    t.rejects(M, &v12("[]"), SYNTAX); // 26
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt"}"#), RESOURCES); // 27
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":[]}"#), RESOURCES); // 28
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"Decrypt"}"#), RESOURCES); // 29
    t.rejects(M, &v12(r#"{"Effect":"Allow","Resource":"*"}"#), ACTIONS); // 30
    t.rejects(M, &v12(r#"{"Action":"kms:Decrypt","Resource":"*"}"#), SYNTAX); // 31
    t.rejects(M, &v12(r#"{"Effect":"Deny"}"#), ACTIONS); // 32
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), ACTIONS); // 33
    t.rejects(M, &v12(&format!(r#"[{{"Effect":"Allow"}},{OK}]"#)), ACTIONS); // 34
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:iam:::alice"}"#), IAM_PATH); // 35
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms::key"}"#), LEGACY); // 36
    t.rejects(M, &v12(r#"{"Effect":"Allow","Resource":"arn:aws:kms::key"}"#), LEGACY); // 37
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws"}"#), "Resource vendor must be fully qualified and cannot contain regexes."); // 38
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":{"r":"*"}}"#), SYNTAX); // 39
    t.rejects(M, &v12(r#"{"Effect":"Deny","Action":"kms:Decrypt","Resource":["key",{}]}"#), SYNTAX); // 40
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"*","NotResource":[]}"#), SYNTAX); // 41
    t.rejects(M, &v12(r#"{"Effect":"Deny","Action":[[]],"Resource":"*"}"#), SYNTAX); // 42
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Action":[],"Resource":"*"}"#), SYNTAX); // 43
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":{},"Resource":"*"}"#), SYNTAX); // 44
    for condition in [r#"[]"#, r#""c""#, r#"{"k":"v"}"#, r#"{"DateLessThan":"v"}"#, r#"{"DateLessThan":[]}"#, r#"{"DateLessThan":{"k":{}}}"#, r#"{"Unknown":{"k":"1"}}"#, r#"{"ForAllValues::StringLike":{"k":"v"}}"#, r#"[{"StringEquals":{"aws:TagKeys":"Env"}}]"#] {
        t.rejects(M, &v12(&format!(r#"{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{condition}}}"#)), SYNTAX); // 45-50, 52-54
    }
    t.rejects(M, &v12(r#"{"Effect":"Allow","Resource":"*","Condition":{"DateLessThan":{"k":{}}}}"#), SYNTAX); // 51
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:iam:eu-west-1::user/alice"}"#), "IAM resource arn:aws:iam:eu-west-1::user/alice cannot contain region information."); // 55
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:s3:eu-west-1::bucket"}"#), "Resource arn:aws:s3:eu-west-1::bucket can not contain region information."); // 56
    t.rejects(M, &v12(r#"{"Sid":{},"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}"#), SYNTAX); // 57
    t.rejects(M, &v12(r#"{"Sid":[],"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}"#), SYNTAX); // 58
    t.rejects(M, &v12(r#"[{"Sid":"Same","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},{"Sid":"Same","Effect":"Allow"}]"#), SID_UNIQUE); // 59
    t.rejects(M, r#"{"Statement":[{"Sid":"Same","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},{"Sid":"Same","Effect":"Allow"}]}"#, VERSION); // 60
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Action":"kms:Encrypt","Resource":"*"}"#), SYNTAX); // 61
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","NotResource":"*"}"#), SYNTAX); // 62
    t.rejects(M, &v12(r#"{"Effect":"dENY","Action":"kms:Decrypt","Resource":"*"}"#), LEGACY); // 63
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"soon"}}}"#), LEGACY); // 64
    t.rejects(M, r#"{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"soon"}}}}"#, VERSION); // 65
    t.rejects(M, r#"{"Statement":{"Effect":"dENY","Action":"kms:Decrypt","Resource":"*"}}"#, VERSION); // 66
    t.rejects(M, &v12(r#"{"Effect":"Allow","Condition":{"DateGreaterThan":{"aws:CurrentTime":"soon"}}}"#), LEGACY); // 67
    t.rejects(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"arn:aws::::key"}"#), LEGACY); // 68
    t.rejects(M, &v12(r#"{"Effect":"allow","Resource":"arn:aws:s3:eu-west-1::bucket"}"#), LEGACY); // 69
    t.rejects(M, &v12(r#"[{"Sid":"Same","Effect":"ALLOW","Action":"kms:Decrypt","Resource":"*"},{"Sid":"Same","Effect":"Allow"}]"#), LEGACY); // 70
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","NotResource":"arn:aws:kms::key"}"#), LEGACY); // 71
    for date in ["2020-13", "2020-01-01t1:00:00.5+1", "2020-01-01t1:00:00.1234567890+01:00", "9223372036854775808"] {
        t.rejects(M, &v12(&format!(r#"{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{{"DateLessThanEquals":{{"k":"{date}"}}}}}}"#)), LEGACY); // 72-75
    }
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:bogus:kms:::key","Condition":{"DateGreaterThan":{"k":"soon"}}}"#), LEGACY); // 76
    t.rejects(M, &v12(r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws::key"}"#), LEGACY); // 77
    // Principals are still refused, after the syntax checks.
    t.rejects(M, &v12(r#"{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}"#), "Policy document should not specify a principal.");
    t.rejects(M, &v12(r#"[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"},{"Effect":"allowed"}]"#), SYNTAX);

    // Valid documents, in the snapshots' order.
    let stmt = |extra: &str| v12(&format!(r#"{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/k1"{extra}}}"#));
    let on = |resource: &str| v12(&format!(r#"{{"Effect":"Allow","Action":"kms:Decrypt","Resource":{resource}}}"#));
    t.accepts(M, &on(r#"["arn:aws:kms:us-east-1:111122223333:key/k1"]"#)); // 0
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"kms: De crypt ","Resource":"*"}"#)); // 1
    t.accepts(M, &on(r#"["arn:aws:kms:us-east-1:111122223333:key/k1","*"]"#)); // 2
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:kms:us-east-1:111122223333:key/k1"}"#)); // 3
    t.accepts(M, &v12(&format!("[{OK}]"))); // 4
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"my-service:do-thing","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2024-12-31T23:59:59Z"}}}"#)); // 5, 16
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"fsx:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/k1"}"#)); // 6
    t.accepts(M, &on(r#""arn:aws:iam:::user/alice""#)); // 7
    t.accepts(M, &on(r#""arn:aws:kms2:::key""#)); // 8
    t.accepts(M, &on(r#""arn:aws:shortform""#)); // 9
    t.accepts(M, &stmt(r#","Condition":{}"#)); // 10
    t.accepts(M, &stmt(r#","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"Env"}}"#)); // 11
    t.accepts(M, &on(r#""arn:aws:cloudwatch:eu-west-1::alarm""#)); // 12
    t.accepts(M, &on(r#""arn:aws:ec2:eu-west-1::instance""#)); // 13
    t.accepts(M, &on(r#""arn:aws:no-such-service:::thing""#)); // 14
    t.accepts(M, &on(r#""arn:aws:no-such-service:eu-west-1::thing""#)); // 15
    t.accepts(M, &stmt(r#","Condition":{"DateGreaterThan":{}}"#)); // 17
    t.accepts(M, &stmt(r#","Condition":{"DateGreaterThan":{"k":[]}}"#)); // 18
    t.accepts(M, &stmt(r#","Condition":{"k":{}}"#)); // 19
    t.accepts(M, &v12(r#"{"Sid":"ReadTheKeyOnly","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}"#)); // 20
    t.accepts(M, &v12(r#"[{"Sid":"Read","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:ListSecrets"],"Resource":"*"},{"Sid":"Tag","Effect":"Allow","Action":["secretsmanager:TagResource"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/Team":["blue","red"]},"ForAllValues:StringEquals":{"aws:TagKeys":"Team"}}}]"#)); // 21
    t.accepts(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","Resource":"*"}"#)); // 22
    t.accepts(M, &v12(r#"{"Effect":"Deny","Action":"kms:*","NotResource":["arn:aws:kms:*:*:key/k1","arn:aws:kms:*:*:key/k2"]}"#)); // 23
    t.accepts(M, &format!(r#"{{"Version":"2012-10-17","Id":"my-policy","Statement":{OK}}}"#)); // 24
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"averyveryverylongvendorname:Decrypt","Resource":"*"}"#)); // 25
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"key-management:Decrypt","Resource":"*"}"#)); // 26
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"key.management:Decrypt","Resource":"*"}"#)); // 27
    t.accepts(M, &v12(r#"{"Effect":"Allow","NotAction":"kms:Decrypt","NotResource":"*"}"#)); // 28
    t.accepts(M, &v12(&format!(r#"[{{"Sid":"First","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}},{OK}]"#))); // 29
    for date in ["02T", "2019-07-01T13:20:15Z", "2016-12-13T21:20:37.593194+00:00", "2016-12-13t2:00:00.593194+23", "-292275054"] {
        t.accepts(M, &stmt(&format!(r#","Condition":{{"DateLessThanEquals":{{"k":"{date}"}}}}"#))); // 30, 34-37
    }
    t.accepts(M, &stmt(r#","Condition":{"x":{},"y":{}}"#)); // 31
    t.accepts(M, &stmt(r#","Condition":{"StringEqualsIfExists":{"k":"v"}}"#)); // 32
    t.accepts(M, &stmt(r#","Condition":{"ForAnyValue:StringEqualsIfExists":{"k":"v"}}"#)); // 33
    t.accepts(M, &v12(r#"[{"Sid":"Own","Effect":"Allow","Action":["iam:ChangePassword","iam:GetUser"],"Resource":"arn:aws:iam::*:user/${aws:username}"},{"Sid":"Mfa","Effect":"Allow","Action":"iam:CreateVirtualMFADevice","Resource":"arn:aws:iam::*:mfa/${aws:username}"},{"Sid":"NoMfa","Effect":"Deny","NotAction":["iam:GetUser","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]"#)); // 38, 46
    t.accepts(M, &v12(r#"[{"Effect":"Allow","Action":["dynamodb:List*","dynamodb:Describe*"],"Resource":"*"},{"Effect":"Allow","Action":["dynamodb:Get*","dynamodb:Query"],"Resource":"arn:aws:dynamodb:*:*:table/Orders"}]"#)); // 39
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"ec2:AttachVolume","Resource":["arn:aws:ec2:*:*:volume/*","arn:aws:ec2:*:*:instance/*"],"Condition":{"ArnEquals":{"ec2:SourceInstanceARN":"arn:aws:ec2:*:*:instance/i-1"},"StringEquals":{"ec2:ResourceTag/Owner":"${aws:username}"}}}"#)); // 40, 41
    t.accepts(M, &v12(r#"{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"arn:aws:ec2:region:account-id:instance/*","Condition":{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}}"#)); // 42
    t.accepts(M, &v12(r#"[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket","Condition":{"StringLike":{"s3:prefix":["","home/${aws:userid}/*","app/${cognito-identity.amazonaws.com:sub}"]}}},{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::bucket/home/${aws:userid}/*"}]"#)); // 43-45
    t.accepts(M, &v12(r#"[{"Effect":"Allow","Action":"rds:*","Resource":["arn:aws:rds:region:*:*"]},{"Effect":"Allow","Action":["rds:Describe*"],"Resource":["*"]}]"#)); // 47, 48
    t.accepts(M, &v12(r#"[{"Sid":"","Effect":"Allow","Action":"rds:*","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]"#)); // 49
    t.accepts(M, &on(r#"["arn:aws:s3:us-west-2:111122223333:accesspoint/ap","arn:aws:s3:us-west-2:111122223333:accesspoint/ap/object/*"]"#)); // 50
    // Beyond the snapshots: wildcard and other partitions, IAM's root and "*" paths, a negative
    // zone offset (all unverified, kept lenient).
    t.accepts(M, &on(r#"["arn:*:kms:*:*:key/*","arn:aws-cn:kms:*:*:key/*","arn:aws:iam::111122223333:root","arn:aws:iam::*:*"]"#));
    t.accepts(M, &stmt(r#","Condition":{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00-05:00"}}"#));
    t.finish(127);
}

/// Managed rules that inline documents do not share (no inline-policy snapshot shows them), and
/// stored documents load under the union of both rule sets.
#[test]
fn managed_and_inline_differ() {
    use PolicyKind::{Identity as I, Managed as M};
    let no_vendor = v12(r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"team":"blue"}}}"#);
    let no_version = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    let mut t = Table::new();
    t.accepts(M, &no_vendor);
    t.rejects(I, &no_vendor, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    t.rejects(M, no_version, "Policy document must be version 2012-10-17 or greater.");
    t.accepts(I, no_version);
    t.rejects(M, "{", "Syntax errors in policy.");
    t.rejects(I, "{", "This policy contains invalid Json");
    t.finish(6);
    for json in [no_vendor.as_str(), no_version] {
        assert!(PolicyDocument::load(json, I).is_ok(), "{json}");
    }
    // A condition key without a vendor is an ordinary key: it holds only when the request has it.
    let doc = vec![Arc::new(PolicyDocument::load(&no_vendor, I).unwrap())];
    let decide = |ctx: &ConditionContext| {
        let p = alice();
        let req = EvalRequest { principal: &p, action: GET, resource: PROD_DB, resource_account: A, context: ctx };
        evaluate(&req, &PolicySet { identity: &doc, ..PolicySet::default() }).is_allowed()
    };
    let mut ctx = ConditionContext::new();
    assert!(!decide(&ctx));
    ctx.set("team", "blue");
    assert!(decide(&ctx));
    // An unknown operator with an empty block tests nothing.
    let empty_op = v12(r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NoSuchOperator":{}}}"#);
    assert!(PolicyDocument::parse(&empty_op, M).unwrap().statement_count() == 1);
}

#[test]
fn public_access_and_validation() {
    let mut t = Table::new();
    let p = |cond: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{cond}}}}}"#
        )
    };
    t.public(RP_PUBLIC, true);
    t.public(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}}"#, true);
    t.public(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","*"]},"Action":"*","Resource":"*"}}"#, true);
    t.public(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}}"#, true);
    t.public(RP_DENY_ALL_DELETE, false);
    t.public(RP_DENY_NOT_ADMIN, false);
    t.public(RP_USER_ALICE, false);
    t.public(RP_ACCOUNT_B, false);
    t.public(RP_SERVICE, false);
    t.public(RP_ORG, false);
    t.public(&p(r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#), false);
    t.public(&p(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}"#), false);
    t.public(&p(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}"#), true);
    t.public(&p(r#"{"StringLike":{"aws:PrincipalAccount":"*"}}"#), true);
    t.public(&p(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#), false);
    t.public(&p(r#"{"StringEquals":{"aws:SourceVpc":"vpc-1234"}}"#), false);
    t.public(&p(r#"{"StringEquals":{"aws:SourceAccount":"111122223333"}}"#), false);
    t.public(&p(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::my-bucket"}}"#), false);
    t.public(&p(r#"{"StringLike":{"aws:userid":"AROAAPP00000000000001:*"}}"#), false);
    t.public(&p(r#"{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#), false);
    t.public(&p(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#), true);
    t.public(&p(r#"{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","::/0"]}}"#), true);
    t.public(&p(r#"{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#), true);
    t.public(&p(r#"{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}"#), true);
    t.public(&p(r#"{"StringEqualsIfExists":{"aws:PrincipalAccount":"111122223333"}}"#), true);
    t.public(&p(r#"{"ForAllValues:StringEquals":{"aws:PrincipalOrgPaths":"o-a/r-b/*"}}"#), true);
    t.public(&p(r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a/r-b/*"}}"#), false);
    t.public(&p(r#"{"StringEquals":{"aws:PrincipalAccount":"${aws:PrincipalAccount}"}}"#), true);
    t.public(&p(r#"{"Bool":{"aws:SecureTransport":"true"}}"#), true);
    t.public(&p(r#"{"StringEquals":{"aws:username":"alice"}}"#), true);
    t.findings(RP_USER_ALICE, &[]);
    t.findings(RP_PUBLIC, &[BROAD_ACCESS_CHECK]);
    t.findings(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}]}"#, &[BROAD_ACCESS_CHECK, BROAD_ACCESS_CHECK]);
    t.findings("{not json", &[SYNTAX_CHECK]);
    t.findings(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, &[SYNTAX_CHECK]);
    t.findings(&p(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#), &[]);
    t.finish(35);
}

/// Hostile inputs must be rejected or evaluated without panicking.
#[test]
fn never_panics() {
    let inputs = [
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateEquals":{"a:b":"99999999999999999999"}}}}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"${${${","Condition":{"ArnLike":{"a:b":"${"}}}}"#.to_string(),
        format!(r#"{{"Statement":{{"Effect":"Allow","Action":"{}","Resource":"*"}}}}"#, "*a?".repeat(2000)),
        "[".repeat(10_000),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username, '}","Condition":{"IpAddress":{"aws:SourceIp":"1.2.3.4/200"},"NumericEquals":{"a:n":"1e400"},"DateLessThan":{"aws:CurrentTime":"-9999999999999999"}}}}"#.to_string(),
    ];
    let mut ctx = ConditionContext::new();
    ctx.set("a:b", "x");
    ctx.set("a:n", "NaN");
    ctx.set("aws:CurrentTime", "99999-01-01T00:00:00Z");
    ctx.set("aws:SourceIp", "::ffff:1.2.3.4");
    for json in &inputs {
        for kind in [
            PolicyKind::Identity,
            PolicyKind::Managed,
            PolicyKind::Resource,
            PolicyKind::Trust,
        ] {
            if let Ok(doc) = PolicyDocument::parse(json, kind) {
                let docs = vec![Arc::new(doc)];
                let p = alice();
                let req = EvalRequest {
                    principal: &p,
                    action: &"x:".repeat(3000),
                    resource: "arn:aws:s3:::ü",
                    resource_account: "",
                    context: &ctx,
                };
                let set = PolicySet {
                    identity: &docs,
                    ..PolicySet::default()
                };
                let _ = evaluate(&req, &set);
            }
        }
    }
}

/// Temporary credentials carry `aws:TokenIssueTime`, `aws:MultiFactorAuthPresent` (false) and
/// `aws:SourceIdentity`; long-term keys carry none of them.
#[test]
fn session_keys_only_for_temporary_credentials() {
    let policy = |json: &str| vec![Arc::new(PolicyDocument::parse(json, PolicyKind::Identity).unwrap())];
    let deny_without_mfa = policy(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    );
    let recent_tokens = policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"DateGreaterThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"},
                         "StringEquals":{"aws:SourceIdentity":"alice"}}}}"#,
    );
    let ctx = ConditionContext::new();
    let decide = |p: &Principal, docs: &Vec<Arc<PolicyDocument>>| {
        let req = EvalRequest {
            principal: p,
            action: "secretsmanager:GetSecretValue",
            resource: EU_DB,
            resource_account: A,
            context: &ctx,
        };
        evaluate(
            &req,
            &PolicySet {
                identity: docs,
                ..PolicySet::default()
            },
        )
        .is_allowed()
    };
    let session = |issued: &str, source: Option<&str>| Principal {
        session: Some(SessionKeys {
            issued_at: issued.to_string(),
            source_identity: source.map(str::to_string),
        }),
        ..app()
    };
    // A long-term key: the key is absent, Bool does not match, the Deny does not apply.
    assert!(decide(&alice(), &deny_without_mfa));
    assert!(!decide(&session("2026-06-01T00:00:00Z", None), &deny_without_mfa));
    assert!(decide(&session("2026-06-01T00:00:00Z", Some("alice")), &recent_tokens));
    assert!(!decide(&session("2025-06-01T00:00:00Z", Some("alice")), &recent_tokens));
    assert!(!decide(&session("2026-06-01T00:00:00Z", None), &recent_tokens));
    assert!(!decide(&app(), &recent_tokens));
}
