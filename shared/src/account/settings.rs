//! Profile, password and language, and ending every sign-in session.
//!
//! A password change asks for the current password (see [`super::console`]), follows the same
//! rules as registration ([`crate::domain::password::check_policy`]: at least 10 characters, not
//! one of the 10,000 most common), and ends every other sign-in session of the patient: whoever
//! signed in with the old password elsewhere is out. The browser that changed it stays signed in.
//! Apps keep their access (the patient removes it under "connected apps" if they want). The
//! patient is mailed "your password was changed" (the reset flow's notice, see
//! [`super::Accounts::password_changed`]), so a change by whoever took over a session is noticed.

use super::console::{AccountConsole, FormResult, Rejected};
use super::hashing::hash_off_thread;
use crate::domain::password::{check_policy, PasswordError};
use crate::domain::patient::{BirthDate, Name, Patient, Phone};
use crate::i18n::Locale;
use crate::oauth::flow_error::PageError;
use crate::repo::{RepoError, Session};

/// The profile form as typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProfileForm<'a> {
    /// `given_name`.
    pub given_name: &'a str,
    /// `family_name`.
    pub family_name: &'a str,
    /// `birthdate`, `YYYY-MM-DD`.
    pub birthdate: &'a str,
    /// `phone_number`; empty removes it.
    pub phone_number: &'a str,
}

impl AccountConsole {
    /// Replaces names, birth date and phone of the session's patient. One conditional write.
    pub async fn update_profile(&self, session: &Session, form: ProfileForm<'_>) -> FormResult<()> {
        let given = Name::parse(form.given_name, "first name")
            .map_err(|_| Rejected::new("given_name", "console-invalid-name"));
        let family = Name::parse(form.family_name, "last name")
            .map_err(|_| Rejected::new("family_name", "console-invalid-name"));
        let birth = BirthDate::parse(form.birthdate.trim())
            .map_err(|_| Rejected::new("birthdate", "console-invalid-birthdate"));
        let phone = match form.phone_number.trim() {
            "" => Ok(None),
            text => Phone::parse(text)
                .map(Some)
                .map_err(|_| Rejected::new("phone_number", "console-invalid-phone")),
        };
        let (given, family, birth, phone) = match (given, family, birth, phone) {
            (Ok(given), Ok(family), Ok(birth), Ok(phone)) => (given, family, birth, phone),
            (given, family, birth, phone) => {
                let first = [given.err(), family.err(), birth.err(), phone.err()]
                    .into_iter()
                    .flatten()
                    .next();
                return Ok(Err(
                    first.unwrap_or(Rejected::new("given_name", "console-invalid-name"))
                ));
            }
        };
        match self
            .patients
            .update_profile(&session.patient_id, &given, &family, birth, phone.as_ref())
            .await
        {
            Ok(()) => {
                tracing::info!("a patient updated their profile");
                Ok(Ok(()))
            }
            Err(RepoError::NotFound) => Err(PageError::RequestExpired),
            Err(other) => Err(other.into()),
        }
    }

    /// Changes the password: checks the current one (throttled), the rules, then replaces the
    /// hash only if the credentials are unchanged since they were checked (one conditional
    /// write), and ends every other session. `raw_sid` is this browser's session. Done, it
    /// answers the patient, for the "your password was changed" notice.
    pub async fn change_password(
        &self,
        session: &Session,
        raw_sid: &str,
        current: &str,
        new: &str,
        ip: &str,
    ) -> FormResult<Patient> {
        if let Err(error) = check_policy(new) {
            return Ok(Err(policy_refusal(&error)));
        }
        let (patient, credentials) = match self
            .confirm_password(session, current, ip, "current_password")
            .await?
        {
            Ok(confirmed) => confirmed,
            Err(rejected) => return Ok(Err(rejected)),
        };
        let hash = hash_off_thread(new.to_owned()).await?;
        match self
            .patients
            .replace_password(&credentials, &hash, false)
            .await
        {
            Ok(()) => {}
            // Another change (a reset, a second tab) landed first: the patient tries again.
            Err(RepoError::NotFound) => {
                return Ok(Err(Rejected::new(
                    "current_password",
                    "console-password-wrong",
                )))
            }
            Err(other) => return Err(other.into()),
        }
        let ended = self
            .sessions
            .end_all(&session.patient_id, Some(raw_sid))
            .await?;
        tracing::info!(
            other_sessions_ended = ended,
            "a patient changed their password"
        );
        Ok(Ok(patient))
    }

    /// Stores the patient's language (pages and mails). One conditional write.
    pub async fn set_language(&self, session: &Session, locale: Locale) -> Result<(), PageError> {
        match self.patients.set_locale(&session.patient_id, locale).await {
            Ok(()) => Ok(()),
            Err(RepoError::NotFound) => Err(PageError::RequestExpired),
            Err(other) => Err(other.into()),
        }
    }

    /// "Sign out everywhere": ends every sign-in session of the patient, this one included.
    /// Returns how many were ended.
    pub async fn sign_out_everywhere(&self, session: &Session) -> Result<usize, PageError> {
        let ended = self.sessions.end_all(&session.patient_id, None).await?;
        tracing::info!(ended, "a patient signed out everywhere");
        Ok(ended)
    }
}

/// The refusal of a new password that breaks a rule.
pub fn policy_refusal(error: &PasswordError) -> Rejected {
    match error {
        PasswordError::TooCommon => Rejected::new("new_password", "console-password-common"),
        _ => Rejected::new("new_password", "console-password-short"),
    }
}
