//! Encrypted snapshots: the archive inside an age file (age-encryption.org/v1), `<name>.tar.gz.age`,
//! so the standard `age` CLI opens it (`age -d -i key.txt snap.tar.gz.age | tar -tz`). Encrypted
//! to X25519 recipients (`age1…`) or with a passphrase (scrypt); decrypted with an identity file
//! or the same passphrase. age authenticates every 64 KiB chunk: a wrong key fails before the
//! first byte, a changed or truncated file fails at the damaged chunk — both are integrity
//! errors (exit 4), found before anything is restored.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

use super::SnapshotError;
use crate::config::EncryptionConfig;

pub const AGE_EXTENSION: &str = ".age";

/// How new snapshots are encrypted.
pub enum Sealing {
    Recipients(Vec<Box<dyn age::Recipient + Send + Sync>>),
    Passphrase(SecretString),
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sealing::Recipients(r) => write!(f, "Sealing::Recipients({} recipients)", r.len()),
            Sealing::Passphrase(_) => f.write_str("Sealing::Passphrase(..)"),
        }
    }
}

impl Sealing {
    /// From `--recipient` values and the config: recipients given on the command line win, then
    /// the configured ones, then the passphrase file. `None` when nothing asks for encryption and
    /// `required` (`--encrypt`) is false.
    pub fn from_config(
        extra: &[String],
        config: &EncryptionConfig,
        required: bool,
    ) -> Result<Option<Sealing>, SnapshotError> {
        let listed = if extra.is_empty() { &config.recipients } else { extra };
        if !listed.is_empty() {
            let mut recipients: Vec<Box<dyn age::Recipient + Send + Sync>> = Vec::new();
            for text in listed {
                if text.trim().to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
                    return Err(SnapshotError::Usage(
                        "a recipient is an age SECRET key (AGE-SECRET-KEY-…): give its public key (`age-keygen -y key.txt`, age1…) and keep the secret one off this host".into(),
                    ));
                }
                let recipient = text.trim().parse::<age::x25519::Recipient>().map_err(|e| {
                    SnapshotError::Usage(format!(
                        "`{text}` is not an age recipient ({e}); expected `age1…` as `age-keygen -y key.txt` prints it"
                    ))
                })?;
                recipients.push(Box::new(recipient));
            }
            return Ok(Some(Sealing::Recipients(recipients)));
        }
        if let Some(file) = &config.passphrase_file {
            return Ok(Some(Sealing::Passphrase(read_passphrase(file)?)));
        }
        if required {
            return Err(SnapshotError::Usage(
                "--encrypt needs a key: set snapshots.encryption.recipients = [\"age1…\"] (or passphrase_file), or pass --recipient age1…".into(),
            ));
        }
        Ok(None)
    }

    /// Wraps `out` so that what is written is encrypted; `finish` the result to write the end.
    pub fn wrap<W: Write>(&self, out: W) -> std::io::Result<age::stream::StreamWriter<W>> {
        let encryptor = match self {
            Sealing::Recipients(recipients) => {
                age::Encryptor::with_recipients(recipients.iter().map(|r| r.as_ref() as &dyn age::Recipient))
                    .map_err(std::io::Error::other)?
            }
            Sealing::Passphrase(passphrase) => age::Encryptor::with_user_passphrase(passphrase.clone()),
        };
        encryptor.wrap_output(out)
    }
}

/// What opens encrypted snapshots: `--identity`, else `snapshots.encryption.identity_file`, and
/// the passphrase file when one is configured.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    pub identity_file: Option<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
}

impl Keys {
    pub fn from_config(identity: Option<PathBuf>, config: &EncryptionConfig) -> Keys {
        Keys {
            identity_file: identity.or_else(|| config.identity_file.clone()),
            passphrase_file: config.passphrase_file.clone(),
        }
    }

    /// Fails (exit 2) when no usable key is configured, before anything is downloaded.
    pub fn check(&self, archive: &str) -> Result<(), SnapshotError> {
        self.identities(archive).map(|_| ())
    }

    fn identities(&self, archive: &str) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, SnapshotError> {
        let mut identities: Vec<Box<dyn age::Identity + Send + Sync>> = Vec::new();
        if let Some(file) = &self.identity_file {
            let text = crate::config::Secret::read_private(file).map_err(SnapshotError::Usage)?;
            let parsed = age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| {
                SnapshotError::Usage(format!("cannot read the age identity file `{}`: {e}", file.display()))
            })?;
            identities.extend(parsed.into_identities().map_err(|e| {
                SnapshotError::Usage(format!("the age identity file `{}` is not usable: {e}", file.display()))
            })?);
        }
        if let Some(file) = &self.passphrase_file {
            identities.push(Box::new(age::scrypt::Identity::new(read_passphrase(file)?)));
        }
        if identities.is_empty() {
            return Err(SnapshotError::Usage(format!(
                "`{archive}` is encrypted: pass --identity key.txt (or set snapshots.encryption.identity_file or passphrase_file)"
            )));
        }
        Ok(identities)
    }

    /// Decrypts `from` into a new private file `to`. Nothing is read from the plaintext before
    /// the whole file has decrypted and authenticated.
    pub fn decrypt_file(&self, from: &Path, to: &Path, shown: &str) -> Result<u64, SnapshotError> {
        let identities = self.identities(shown)?;
        let input = std::fs::File::open(from).map_err(SnapshotError::io(format!("opening `{}`", from.display())))?;
        let integrity = |what: String| SnapshotError::Integrity(format!("`{shown}`: {what}"));
        let decryptor = age::Decryptor::new(std::io::BufReader::new(input))
            .map_err(|e| integrity(format!("not a readable age file ({e})")))?;
        let mut reader =
            decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity)).map_err(|e| match e {
                age::DecryptError::NoMatchingKeys => {
                    integrity("no identity given matches its recipients (wrong key?)".to_string())
                }
                age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => {
                    integrity("decryption failed (wrong passphrase, or the file was altered)".to_string())
                }
                other => integrity(format!("cannot decrypt ({other})")),
            })?;
        let mut out = super::create_private(to)?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|e| {
                integrity(format!("decryption failed after {total} bytes: the file was altered or truncated ({e})"))
            })?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(SnapshotError::io(format!("writing `{}`", to.display())))?;
            total += n as u64;
        }
        Ok(total)
    }
}

/// The passphrase: the file's first line; like every secret file, refused when every user may
/// read it.
fn read_passphrase(file: &Path) -> Result<SecretString, SnapshotError> {
    // Not remembered for masking: it is never printed, and masking every occurrence of a short
    // passphrase would rewrite unrelated text (a repository named like it) in outputs and the journal.
    let text = crate::config::Secret::read_private(file).map_err(SnapshotError::Usage)?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(SnapshotError::Usage(format!("the passphrase file `{}` is empty", file.display())));
    }
    Ok(SecretString::from(line))
}
