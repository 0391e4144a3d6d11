//! The local mailer: one `.eml` file per message in a folder, written atomically (a temporary
//! file renamed into place), so a reader never sees half a message.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{Mail, MailError, Mailer};

/// Writes each message to `<dir>/<date>-<message id>.eml` (`…-2.eml` and on for a message sent
/// again within the same second, so nothing is ever overwritten).
#[derive(Clone, Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    /// A mailer writing into `dir` (created on first send).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = mail.to_mime()?;
        let stem: String = mail
            .message_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(80)
            .collect();
        let name = format!("{}-{stem}", mail.date);
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let temporary = dir.join(format!(".{name}.{}.tmp", crate::crypto::random_id(8)));
            std::fs::write(&temporary, &bytes)?;
            // Never over another message: a message sent twice in one second shows as two files.
            let mut copy = 1;
            loop {
                let target = match copy {
                    1 => dir.join(format!("{name}.eml")),
                    n => dir.join(format!("{name}-{n}.eml")),
                };
                match std::fs::hard_link(&temporary, &target) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => copy += 1,
                    linked => {
                        let _ = std::fs::remove_file(&temporary);
                        return linked;
                    }
                }
            }
        })
        .await
        .map_err(|e| MailError::Unavailable(format!("outbox writer stopped: {e}")))?
        .map_err(|e| {
            MailError::Unavailable(format!(
                "cannot write to the outbox folder {}: {e}",
                self.dir.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_sent_twice_is_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(dir.path().join("outbox"));
        let mail = Mail {
            from: "p <p@portal.example>".into(),
            to: "a@example.org".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
            message_id: "m1@portal.example".into(),
            headers: vec![],
            date: 1_800_000_000,
        };
        mailer.send(&mail).await.unwrap();
        mailer.send(&mail).await.unwrap();
        let mut names: Vec<String> = std::fs::read_dir(mailer.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "1800000000-m1_portal_example-2.eml",
                "1800000000-m1_portal_example.eml"
            ]
        );
    }

    #[tokio::test]
    async fn a_sent_message_is_one_complete_eml_file() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = OutboxMailer::new(dir.path().join("outbox"));
        let mail = Mail {
            from: "p <p@portal.example>".into(),
            to: "a@example.org".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
            message_id: "m1@portal.example".into(),
            headers: vec![],
            date: 1_800_000_000,
        };
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(mailer.dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(
            files.len(),
            1,
            "no temporary file is left behind: {files:?}"
        );
        assert!(files[0].extension().unwrap() == "eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.starts_with("From: "), "{text}");
        assert!(text.contains("Message-ID: <m1@portal.example>\r\n"));
        assert!(
            text.trim_end().ends_with("--"),
            "the last MIME part is closed: {text}"
        );
    }
}
