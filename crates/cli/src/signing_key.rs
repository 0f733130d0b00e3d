//! The secret that signs access tokens. `CONSAILT_TOKEN_SECRET` (hex, at least 32 bytes) wins;
//! otherwise a random one is created on first start in `DATA_DIR/token-signing.key`, readable
//! only by its owner, so tokens survive restarts. Instances sharing one database must share it.

use std::path::Path;

use application::security::tokens::{MIN_SECRET_BYTES, SigningKey, random_bytes};

use crate::Failure;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "token-signing.key";

pub fn load(data_dir: &Path) -> Result<SigningKey, Failure> {
    if let Ok(hex_secret) = std::env::var("CONSAILT_TOKEN_SECRET") {
        let secret = hex::decode(hex_secret.trim())
            .map_err(|e| Failure::from(format!("CONSAILT_TOKEN_SECRET is not hex: {e}")))?;
        return SigningKey::from_secret(&secret).map_err(|e| Failure::from(format!("CONSAILT_TOKEN_SECRET: {e}")));
    }
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::from(format!("{}: cannot read: {e}", path.display())))?;
        let secret = hex::decode(text.trim()).map_err(|e| {
            Failure::from(format!("{}: not a hex key ({e}); delete it to make a new one", path.display()))
        })?;
        return SigningKey::from_secret(&secret).map_err(|e| Failure::from(format!("{}: {e}", path.display())));
    }
    let secret = random_bytes::<MIN_SECRET_BYTES>().map_err(|e| Failure::from(e.to_string()))?;
    write_private(&path, &hex::encode(secret))?;
    tracing::info!(path = %path.display(), "created a token signing key");
    SigningKey::from_secret(&secret).map_err(Failure::from)
}

fn write_private(path: &Path, contents: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| Failure::from(format!("{}: cannot create: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::from(format!("{}: cannot write: {e}", path.display())))
}
