//! Tokens: short-lived access JWTs (HS256 pinned), opaque refresh tokens and API keys. Only
//! SHA-256 hashes of refresh tokens and API keys are stored. A refresh token's successor is
//! derived from it with an HMAC, so a retried refresh yields the very token the first attempt
//! produced without that token ever being stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::AppError;

/// Prefix of every API key, so a leaked key is recognizable (secret scanners, logs).
pub const API_KEY_PREFIX: &str = "csk_";
/// Prefix of every refresh token.
pub const REFRESH_TOKEN_PREFIX: &str = "csr_";

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: String,
    /// The organization the session acts in.
    pub org: String,
    /// The session (refresh family) this token belongs to.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// The key that signs access tokens and derives refresh-token successors.
#[derive(Clone)]
pub struct SigningKey {
    /// False for the placeholder used when no random key could be made: it signs and accepts
    /// nothing.
    usable: bool,
    secret: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

/// Shortest signing secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

impl SigningKey {
    /// A key from a secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn from_secret(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!("the token signing secret must be at least {MIN_SECRET_BYTES} bytes"));
        }
        Ok(Self {
            usable: true,
            secret: secret.to_vec(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// A fresh random key (tests, and a first start before one is saved).
    pub fn generate() -> Result<Self, String> {
        Self::from_secret(&random_bytes::<32>().map_err(|e| e.to_string())?)
    }

    /// A key that signs and accepts nothing (no randomness was available to make a real one).
    pub fn disabled() -> Self {
        let secret = [0u8; MIN_SECRET_BYTES];
        Self {
            usable: false,
            secret: secret.to_vec(),
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
        }
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String, AppError> {
        if !self.usable {
            return Err(AppError::Internal("no signing key is available".to_owned()));
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AppError::Internal(format!("cannot sign an access token: {e}")))
    }

    /// The claims of a token signed by this key with HS256, whatever its expiry (the caller
    /// checks that against the injected clock). Any other algorithm, `none` included, fails.
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        if !self.usable {
            return None;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["sub", "exp"]);
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).ok().map(|data| data.claims)
    }

    /// The token that replaces `refresh_token` when it is rotated.
    pub fn successor(&self, refresh_token: &str) -> Result<String, AppError> {
        if !self.usable {
            return Err(AppError::Internal("no signing key is available".to_owned()));
        }
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).map_err(|e| AppError::Internal(format!("hmac key: {e}")))?;
        mac.update(b"consailt refresh successor\0");
        mac.update(refresh_token.as_bytes());
        Ok(format!("{REFRESH_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())))
    }
}

/// Cryptographically random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A new opaque refresh token (256 random bits).
pub fn new_refresh_token() -> Result<String, AppError> {
    Ok(format!("{REFRESH_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

/// A new API key: the prefix, then 32 random bytes.
pub fn new_api_key() -> Result<String, AppError> {
    Ok(format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

/// The stored form of a refresh token or API key.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Seconds since the epoch, as JWT claims carry time.
pub fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims { sub: "usr_1".into(), org: "org_1".into(), sid: "ses_1".into(), iat: 0, exp: 900 }
    }

    #[test]
    fn tokens_verify_only_with_the_same_key_and_algorithm() {
        let key = SigningKey::generate().expect("key");
        let token = key.sign(&claims()).expect("sign");
        assert_eq!(key.verify(&token), Some(claims()));
        assert_eq!(SigningKey::generate().expect("key").verify(&token), None, "another key");
        let unsigned = {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).expect("json"));
            format!("{header}.{body}.")
        };
        assert_eq!(key.verify(&unsigned), None, "alg none");
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims(), &key.encoding).expect("sign");
        assert_eq!(key.verify(&hs512), None, "another algorithm");
    }

    #[test]
    fn successors_are_stable_per_token_and_key() {
        let key = SigningKey::generate().expect("key");
        let a = key.successor("csr_a").expect("successor");
        assert_eq!(a, key.successor("csr_a").expect("successor"));
        assert_ne!(a, key.successor("csr_b").expect("successor"));
        assert_ne!(a, SigningKey::generate().expect("key").successor("csr_a").expect("successor"));
    }

    #[test]
    fn keys_are_prefixed_and_long() {
        let key = new_api_key().expect("key");
        assert!(key.starts_with(API_KEY_PREFIX));
        assert!(key.len() >= API_KEY_PREFIX.len() + 43);
        assert_ne!(key, new_api_key().expect("key"));
    }
}
