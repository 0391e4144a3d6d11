//! Patients stored the way sign-up stores them: Anna Muster, with the email, phone number and
//! password a test needs.

use shared::domain::password::hash_password;
use shared::domain::patient::{BirthDate, Email, Name, Patient, Phone};
use shared::repo::PatientRepo;
use shared::store::SharedStore;

/// The given name of kit patients.
pub const GIVEN_NAME: &str = "Anna";
/// The family name of kit patients.
pub const FAMILY_NAME: &str = "Muster";
/// The birth date of kit patients.
pub const BIRTHDATE: &str = "1985-02-28";
/// A phone number as a patient types it (stored normalised: `+49301234567`).
pub const PHONE: &str = "+49 30 1234567";
/// The password hash of patients who never sign in: a well-formed argon2id string no password
/// matches, so no test pays for hashing it needs no password for.
pub const NO_PASSWORD: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

/// Anna Muster with `email` (not yet verified) and `phone`, not stored.
///
/// # Panics
/// When `email` or `phone` is not valid.
pub fn patient(email: &str, phone: Option<&str>) -> Patient {
    let name = |text: &str, what: &'static str| {
        Name::parse(text, what).unwrap_or_else(|e| panic!("not a valid {what}: {e}"))
    };
    Patient::new(
        Email::parse(email).unwrap_or_else(|e| panic!("not a valid email {email}: {e}")),
        name(GIVEN_NAME, "first name"),
        name(FAMILY_NAME, "last name"),
        BirthDate::parse(BIRTHDATE).unwrap_or_else(|e| panic!("not a valid birth date: {e}")),
        phone.map(|p| Phone::parse(p).unwrap_or_else(|e| panic!("not a valid phone {p}: {e}"))),
    )
}

/// Stores `patient` with `password` hashed as sign-up hashes it (on the blocking pool, it takes
/// a while), or with [`NO_PASSWORD`].
///
/// # Panics
/// When the password breaks the policy or the store refuses the patient (an email already taken).
pub async fn register(store: &SharedStore, patient: &Patient, password: Option<&str>) {
    let hash = match password {
        Some(password) => {
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .unwrap_or_else(|e| panic!("the hashing task failed: {e}"))
                .unwrap_or_else(|e| panic!("cannot hash the password: {e}"))
        }
        None => NO_PASSWORD.to_owned(),
    };
    PatientRepo::new(store.clone())
        .create(patient, &hash)
        .await
        .unwrap_or_else(|e| panic!("cannot store the patient: {e}"));
}
