//! Passwords: strength policy (length and a zxcvbn estimate), argon2id hashing and
//! verification. Hashing is CPU-heavy, so it runs on the blocking pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use domain::DomainError;

use crate::AppError;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in characters (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Refuses a weak password with the reason; `context` holds words the password must not lean
/// on (the email, the name).
pub fn check_strength(password: &str, context: &[&str]) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(weak(format!("must be at least {MIN_PASSWORD_CHARS} characters, got {chars}")));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(weak(format!("must be at most {MAX_PASSWORD_CHARS} characters")));
    }
    let estimate = zxcvbn::zxcvbn(password, context);
    if (estimate.score() as u8) < 3 {
        let reason = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "it is too easy to guess".to_owned());
        let hint =
            estimate.feedback().and_then(|f| f.suggestions().first().map(|s| format!(" ({s})"))).unwrap_or_default();
        return Err(weak(format!("is too weak: {reason}{hint}")));
    }
    Ok(())
}

fn weak(message: String) -> AppError {
    AppError::Domain(DomainError::validation("password", message))
}

fn internal(error: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("password hashing failed: {error}"))
}

/// Hashes a password with argon2id and a fresh salt, as a PHC string.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(internal)?;
        let salt = SaltString::encode_b64(&salt).map_err(internal)?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(internal)
    })
    .await
    .map_err(internal)?
}

/// Whether `password` matches the PHC `stored` hash. A malformed stored hash never matches.
pub async fn verify(password: String, stored: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            tracing::error!("a stored password hash is malformed");
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
    .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_contextual_passwords_are_refused_with_a_reason() {
        for (password, reason) in [
            ("short", "at least 12"),
            ("password1234", "too weak"),
            ("aaaaaaaaaaaaaaaa", "too weak"),
            ("alice.smith@example.com", "too weak"),
        ] {
            let error = check_strength(password, &["alice.smith@example.com", "Alice Smith"]).expect_err(password);
            assert!(error.to_string().contains(reason), "{password}: {error}");
        }
        check_strength("correct horse battery staple 42", &[]).expect("strong");
    }

    #[tokio::test]
    async fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery staple".into()).await.expect("hash");
        let b = hash("correct horse battery staple".into()).await.expect("hash");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify("correct horse battery staple".into(), a.clone()).await.expect("verify"));
        assert!(!verify("wrong horse battery staple".into(), a).await.expect("verify"));
        assert!(!verify("x".into(), "not a hash".into()).await.expect("verify"));
    }
}
