//! The API layer's error: every way an operation can fail, as AWS names it.
//! `wire::error` maps each variant to `__type`, message and HTTP status in one exhaustive match.

use crate::auth::AuthError;
use crate::crypto::CryptoError;
use crate::store::StoreError;

/// An operation's failure, in AWS's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `ResourceNotFoundException`.
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    /// `InvalidParameterException`.
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(String),
    /// `InvalidRequestException`.
    #[error("InvalidRequestException: {0}")]
    InvalidRequest(String),
    /// `LimitExceededException`.
    #[error("LimitExceededException: {0}")]
    LimitExceeded(String),
    /// `ResourceExistsException`.
    #[error("ResourceExistsException: {0}")]
    ResourceExists(String),
    /// `EncryptionFailure`.
    #[error("EncryptionFailure: {0}")]
    EncryptionFailure(String),
    /// `DecryptionFailure`.
    #[error("DecryptionFailure: {0}")]
    DecryptionFailure(String),
    /// `InvalidNextTokenException`.
    #[error("InvalidNextTokenException: {0}")]
    InvalidNextToken(String),
    /// `MalformedPolicyDocumentException`.
    #[error("MalformedPolicyDocumentException: {0}")]
    MalformedPolicyDocument(String),
    /// `PublicPolicyException`: BlockPublicPolicy refused a policy that grants public access.
    #[error("PublicPolicyException: {0}")]
    PublicPolicy(String),
    /// `InternalServiceError` (HTTP 500). The cause is logged, never sent.
    #[error("InternalServiceError")]
    Internal,
    /// Coral `ValidationException`, with the full message.
    #[error("ValidationException: {0}")]
    Validation(String),
    /// Coral `SerializationException`: malformed JSON or a member of the wrong type.
    #[error("SerializationException")]
    Serialization,
    /// Coral `UnknownOperationException`.
    #[error("UnknownOperationException")]
    UnknownOperation,
    /// `AccessDeniedException`, with AWS's `User: ... is not authorized ...` message.
    #[error("AccessDeniedException: {0}")]
    AccessDenied(String),
    /// The request body exceeds the server's limit.
    #[error("RequestEntityTooLarge")]
    RequestTooLarge,
    /// Authentication failed.
    #[error("{0}")]
    Auth(#[from] AuthError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::secret_not_found(),
            StoreError::TooManyVersions => ApiError::LimitExceeded(
                "You can't create more versions of this secret: it has the maximum number of \
                 versions and none is old enough to be removed."
                    .into(),
            ),
            StoreError::TooManyTags => {
                ApiError::LimitExceeded("You can't attach more than 50 tags to a secret.".into())
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::Internal
            }
        }
    }
}

impl From<CryptoError> for ApiError {
    fn from(e: CryptoError) -> Self {
        tracing::error!(error = %e, "crypto failure");
        ApiError::Internal
    }
}

impl ApiError {
    /// AWS's message for a SecretId that names no secret.
    pub fn secret_not_found() -> Self {
        Self::ResourceNotFound("Secrets Manager can't find the specified secret.".into())
    }

    /// AWS's error for an operation on a secret scheduled for deletion.
    pub fn marked_for_deletion() -> Self {
        Self::InvalidRequest(
            "You can't perform this operation on the secret because it was marked for deletion."
                .into(),
        )
    }

    /// AWS's error for a name with a forbidden character.
    pub fn invalid_name() -> Self {
        Self::Validation(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the \
             following: -/_+=.@!"
                .into(),
        )
    }

    /// AWS's error when a raw request omits ClientRequestToken.
    pub fn missing_token() -> Self {
        Self::InvalidRequest(
            "You must provide a ClientRequestToken value. We recommend a UUID-type value.".into(),
        )
    }

    /// AWS's error when a ClientRequestToken is reused with a different value.
    pub fn token_in_use(token: &str, arn: &str) -> Self {
        Self::ResourceExists(format!(
            "You can't use ClientRequestToken {token} because that value is already in use for a \
             version of secret {arn}."
        ))
    }

    /// The message sent with the error, if any. Internal errors never carry their cause.
    pub fn message(&self) -> Option<String> {
        match self {
            Self::ResourceNotFound(m)
            | Self::InvalidParameter(m)
            | Self::InvalidRequest(m)
            | Self::LimitExceeded(m)
            | Self::ResourceExists(m)
            | Self::EncryptionFailure(m)
            | Self::DecryptionFailure(m)
            | Self::InvalidNextToken(m)
            | Self::MalformedPolicyDocument(m)
            | Self::PublicPolicy(m)
            | Self::Validation(m)
            | Self::AccessDenied(m) => Some(m.clone()),
            Self::Internal => Some("An error occurred on the server side.".into()),
            Self::Serialization | Self::UnknownOperation => None,
            Self::RequestTooLarge => Some("Request body is too large.".into()),
            Self::Auth(e) => Some(e.to_string()),
        }
    }

    /// The wire error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::InvalidRequest(_) => "InvalidRequestException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::ResourceExists(_) => "ResourceExistsException",
            Self::EncryptionFailure(_) => "EncryptionFailure",
            Self::DecryptionFailure(_) => "DecryptionFailure",
            Self::InvalidNextToken(_) => "InvalidNextTokenException",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            Self::PublicPolicy(_) => "PublicPolicyException",
            Self::Internal => "InternalServiceError",
            Self::Validation(_) => "ValidationException",
            Self::Serialization => "SerializationException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::RequestTooLarge => "RequestEntityTooLargeException",
            Self::Auth(AuthError::MissingAuthenticationToken) => {
                "MissingAuthenticationTokenException"
            }
            Self::Auth(AuthError::IncompleteSignature(_)) => "IncompleteSignatureException",
            Self::Auth(AuthError::InvalidSignature(_)) => "InvalidSignatureException",
            Self::Auth(AuthError::UnrecognizedClient) => "UnrecognizedClientException",
            Self::Auth(AuthError::ExpiredToken) => "ExpiredTokenException",
        }
    }
}
