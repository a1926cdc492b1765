//! Private keys kept in files (hex, with or without 0x, surrounding whitespace ignored), as the
//! relay, the worker and `taskctl` read them. The error never contains the key.

use std::path::{Path, PathBuf};

use alloy::signers::local::PrivateKeySigner;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} does not hold a secp256k1 private key in hex")]
    NotAKey(PathBuf),
}

pub fn read_signer(path: &Path) -> Result<PrivateKeySigner, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.trim()
        .parse()
        .map_err(|_| KeyFileError::NotAKey(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hex_keys_and_names_bad_files() {
        let dir = std::env::temp_dir().join(format!("key-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.key");
        std::fs::write(&good, format!("  0x{}\n", "11".repeat(32))).unwrap();
        assert!(read_signer(&good).is_ok());
        let bad = dir.join("bad.key");
        std::fs::write(&bad, "nokey").unwrap();
        let err = read_signer(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.key") && !err.contains("nokey"), "{err}");
        assert!(matches!(
            read_signer(&dir.join("missing.key")),
            Err(KeyFileError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
