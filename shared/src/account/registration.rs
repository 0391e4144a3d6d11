//! `/account/register` and the verification link sent again.
//!
//! A registration checks the form, takes a unit of the per-IP and per-address limits, hashes the
//! password (argon2id, off the async threads), and stores profile and email index in one
//! transaction; the store refuses a second account for an address, so of two racing
//! registrations exactly one wins. The winner gets the verification link; a taken address gets
//! the same answer while its owner gets a mail saying someone tried, with the way to reset the
//! password.

use crate::domain::password::{self, PasswordError};
use crate::domain::patient::{BirthDate, Email, Name, Patient, Phone};
use crate::i18n::Locale;
use crate::metrics::{self, Counter};
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::flow_error::PageError;
use crate::repo::limits::{
    REGISTER_PER_ADDRESS, REGISTER_PER_IP, VERIFY_MAIL_PER_ACCOUNT, VERIFY_MAIL_PER_IP,
};
use crate::repo::{RepoError, Subject};

use super::mails::AccountMail;
use super::{Accounts, FieldError};

/// The fields of the registration form, as typed.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistrationForm<'a> {
    /// `email`.
    pub email: &'a str,
    /// `password`.
    pub password: &'a str,
    /// `given_name`.
    pub given_name: &'a str,
    /// `family_name`.
    pub family_name: &'a str,
    /// `birthdate` (`YYYY-MM-DD`).
    pub birthdate: &'a str,
    /// `phone_number` (optional: empty).
    pub phone_number: &'a str,
}

/// What a registration did, as the page tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registered {
    /// "Check your mail": a new account got its verification link, or a taken address's owner
    /// got a notice (the same answer, so nobody learns which addresses have accounts).
    MailSent,
    /// The form needs corrections; nothing was stored.
    Invalid(Vec<FieldError>),
    /// Too many registrations from this address or for this email: try again later.
    Throttled,
}

/// What asking for the verification link again did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resent {
    /// The same answer whether or not an unverified account has the address.
    Done,
    /// Not an email address.
    Invalid(FieldError),
    /// Too many requests: try again later.
    Throttled,
}

const EMAIL_ERROR: FieldError = FieldError {
    field: "email",
    message: "account-error-email",
};

/// The form checked field by field: the patient to store (without a password hash) or every
/// problem at once.
pub fn check(
    form: &RegistrationForm<'_>,
    locale: Locale,
) -> Result<(Patient, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut problem = |field: &'static str, message: &'static str| {
        errors.push(FieldError { field, message });
    };
    let email = Email::parse(form.email).ok();
    if email.is_none() {
        problem("email", EMAIL_ERROR.message);
    }
    match password::check_policy(form.password) {
        Ok(()) => {}
        Err(PasswordError::TooCommon) => problem("password", "account-error-password-common"),
        Err(_) => problem("password", "account-error-password-length"),
    }
    let given = Name::parse(form.given_name, "given name").ok();
    if given.is_none() {
        problem("given_name", "account-error-given-name");
    }
    let family = Name::parse(form.family_name, "family name").ok();
    if family.is_none() {
        problem("family_name", "account-error-family-name");
    }
    let birth = BirthDate::parse(form.birthdate.trim()).ok();
    if birth.is_none() {
        problem("birthdate", "account-error-birthdate");
    }
    let phone = match form.phone_number.trim() {
        "" => Some(None),
        text => Phone::parse(text).ok().map(Some),
    };
    if phone.is_none() {
        problem("phone_number", "account-error-phone");
    }
    match (email, given, family, birth, phone) {
        (Some(email), Some(given), Some(family), Some(birth), Some(phone)) if errors.is_empty() => {
            let patient = Patient::new(email, given, family, birth, phone).with_locale(locale);
            Ok((patient, form.password.to_owned()))
        }
        _ => Err(errors),
    }
}

impl Accounts {
    /// `POST /account/register`. `locale` is the page's language (the new account's language);
    /// `request` the sign-in the patient came from, carried in the verification link.
    pub async fn register(
        &self,
        form: &RegistrationForm<'_>,
        locale: Locale,
        ip: &str,
        request: Option<AuthorizationRequest>,
    ) -> Result<Registered, PageError> {
        let (patient, password) = match check(form, locale) {
            Ok(checked) => checked,
            Err(errors) => return Ok(Registered::Invalid(errors)),
        };
        let address = patient.email.lookup_key();
        if !self.limits.take(REGISTER_PER_IP, Subject::Ip(ip)).await?
            || !self
                .limits
                .take(REGISTER_PER_ADDRESS, Subject::Hashed(&address))
                .await?
        {
            tracing::info!("registration throttled");
            return Ok(Registered::Throttled);
        }
        // Hashed whether or not the address is taken: both answers cost the same.
        let hash = super::hashing::hash_off_thread(password).await?;
        match self.patients.create(&patient, &hash).await {
            Ok(()) => {
                tracing::info!(patient_id = %patient.id, "patient registered");
                metrics::count(Counter::Registrations);
                self.send_verification(patient.id.clone(), &patient.email, locale, request)
                    .await?;
            }
            Err(RepoError::AlreadyExists) => self.notify_owner(&patient.email).await?,
            Err(other) => return Err(other.into()),
        }
        Ok(Registered::MailSent)
    }

    /// Tells the owner of a taken address that someone tried to register with it, in the
    /// owner's language, with the way to reset the password.
    async fn notify_owner(&self, email: &Email) -> Result<(), PageError> {
        let Some(credentials) = self.patients.credentials_by_email(email).await? else {
            // Deleted (or expired) since the registration lost: nobody to tell.
            return Ok(());
        };
        let locale = self
            .patients
            .get(&credentials.patient_id)
            .await?
            .map(|owner| owner.locale)
            .unwrap_or_default();
        tracing::info!(patient_id = %credentials.patient_id, "registration with a taken address");
        let url = self.page_url("/account/password/forgot");
        self.send(
            AccountMail::RegistrationAttempt,
            &credentials.email,
            locale,
            Some(&url),
        )
        .await
    }

    /// `POST /account/verify/resend`: a new verification link for an unverified account with
    /// this address; the same answer for any other address.
    pub async fn resend_verification(
        &self,
        email: &str,
        ip: &str,
        request: Option<AuthorizationRequest>,
    ) -> Result<Resent, PageError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(Resent::Invalid(EMAIL_ERROR));
        };
        if !self
            .limits
            .take(VERIFY_MAIL_PER_IP, Subject::Ip(ip))
            .await?
            || !self
                .limits
                .take(
                    VERIFY_MAIL_PER_ACCOUNT,
                    Subject::Hashed(&email.lookup_key()),
                )
                .await?
        {
            tracing::info!("verification mail throttled");
            return Ok(Resent::Throttled);
        }
        let Some(credentials) = self.patients.credentials_by_email(&email).await? else {
            return Ok(Resent::Done);
        };
        if credentials.email_verified {
            return Ok(Resent::Done);
        }
        let locale = self
            .patients
            .get(&credentials.patient_id)
            .await?
            .map(|patient| patient.locale)
            .unwrap_or_default();
        self.send_verification(credentials.patient_id, &credentials.email, locale, request)
            .await?;
        Ok(Resent::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RegistrationForm<'static> {
        RegistrationForm {
            email: "anna@example.org",
            password: "correct horse battery",
            given_name: "Anna",
            family_name: "Muster",
            birthdate: "1985-02-28",
            phone_number: "",
        }
    }

    #[test]
    fn a_good_form_makes_an_unverified_patient_in_the_page_language() {
        let german = Locale::parse("de").unwrap();
        let (patient, password) = check(&form(), german).unwrap();
        assert_eq!(patient.email.as_str(), "anna@example.org");
        assert!(!patient.email_verified);
        assert_eq!(patient.locale, german);
        assert_eq!(patient.phone, None);
        assert_eq!(password, "correct horse battery");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = RegistrationForm {
            email: "not-an-address",
            password: "1234567890",
            given_name: "",
            family_name: "\u{7}",
            birthdate: "1985-02-30",
            phone_number: "12",
        };
        let errors = check(&bad, Locale::ENGLISH).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "email",
                "password",
                "given_name",
                "family_name",
                "birthdate",
                "phone_number"
            ]
        );
        assert_eq!(errors[1].message, "account-error-password-common");
        let short = RegistrationForm {
            password: "short",
            ..form()
        };
        assert_eq!(
            check(&short, Locale::ENGLISH).unwrap_err()[0].message,
            "account-error-password-length"
        );
    }
}
