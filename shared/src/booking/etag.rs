//! Entity tags of appointments (RFC 9110 §8.8.3) that make a conditional change cost one round trip.
//!
//! Rescheduling or cancelling must know the slot the appointment holds *now* and its notice period,
//! which the client cannot be trusted to name: without help that costs a read before the
//! transaction. The `ETag` of an appointment is a sealed copy of the record at one revision
//! (AES-256-GCM-SIV under the ETag key ring, [`crate::keys::Purpose::AppointmentEtag`]: the client
//! can neither read nor forge it). A `PUT` or `DELETE` that sends it back in `If-Match` skips the read: the transaction
//! is conditioned on that revision, so it applies only if the copy is still the current state, and
//! otherwise fails with 412 Precondition Failed (the client fetches the appointment again).

use super::appointments::{Appointment, AppointmentId};
use crate::domain::patient::PatientId;
use crate::keys::{KeySet, Purpose};

const PURPOSE: Purpose = Purpose::AppointmentEtag;

/// What an `If-Match` header asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`, or `If-Match: *` (any current representation): read the appointment.
    Any,
    /// The copy sealed in the first tag of the list that opened for this patient and appointment.
    Tag(Box<Appointment>),
    /// Tags were sent, and none is a current tag of this appointment: 412.
    NoneMatch,
}

/// Seals appointments into entity tags and opens `If-Match` headers.
pub struct AppointmentTag;

impl AppointmentTag {
    /// The strong entity tag of this revision of the appointment, quotes included.
    pub fn seal(keys: &KeySet, appointment: &Appointment) -> Option<String> {
        match keys.sealer(PURPOSE).seal_json(appointment) {
            Ok(sealed) => Some(format!("\"{sealed}\"")),
            Err(error) => {
                // Only a broken key ring gets here; the answer goes out without a tag.
                tracing::error!(%error, "an appointment could not be sealed into an ETag");
                None
            }
        }
    }

    /// Reads an `If-Match` value (`*` or a comma-separated list of entity tags) for the appointment
    /// `id` of `patient_id`. Weak tags never match (If-Match compares strongly); tags of another
    /// appointment or patient, forged, altered or from retired keys do not match either.
    pub fn if_match(
        keys: &KeySet,
        header: Option<&str>,
        patient_id: &PatientId,
        id: &AppointmentId,
    ) -> IfMatch {
        let Some(header) = header else {
            return IfMatch::Any;
        };
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        header
            .split(',')
            .map(str::trim)
            .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"'))
            .filter_map(|sealed| keys.sealer(PURPOSE).open_json::<Appointment>(sealed).ok())
            .find(|copy| copy.patient_id == *patient_id && copy.id == *id)
            .map_or(IfMatch::NoneMatch, |copy| IfMatch::Tag(Box::new(copy)))
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::booking::AppointmentStatus;
    use crate::keys::test_support::{foreign_keyset, keyset_of};
    use crate::keys::{KeySet, Role};

    fn appointment() -> Appointment {
        Appointment {
            id: appointment_id("a"),
            patient_id: patient(1),
            status: AppointmentStatus::Booked,
            type_id: 198,
            type_name: "Consultation".into(),
            category_id: 53,
            category_name: "General".into(),
            insurance_id: 136,
            starts_at: 1_800_000_000,
            ends_at: 1_800_001_200,
            time_zone: Berlin,
            video_consultation: false,
            asap_opt_in: true,
            email: Some("p@example.org".into()),
            asap_subscription_id: Some("s".repeat(20)),
            asap_since: Some(1_700_000_000),
            comment: Some("Bring the \"old\" results, please".into()),
            cancellation_notice_hours: 24,
            created_at: 1_700_000_000,
            revision: 3,
        }
    }

    fn patient(n: u8) -> PatientId {
        PatientId::parse(&format!("patient{n}")).unwrap()
    }

    fn appointment_id(letter: &str) -> AppointmentId {
        AppointmentId::parse(&letter.repeat(AppointmentId::LEN)).unwrap()
    }

    fn sealer() -> KeySet {
        keyset_of(&[Role::Booking])
    }

    #[test]
    fn a_tag_opens_to_the_exact_copy_it_was_made_from() {
        let sealer = sealer();
        let tag = AppointmentTag::seal(&sealer, &appointment()).unwrap();
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        let opened =
            AppointmentTag::if_match(&sealer, Some(&tag), &patient(1), &appointment_id("a"));
        assert_eq!(opened, IfMatch::Tag(Box::new(appointment())));
    }

    #[test]
    fn no_header_and_a_star_ask_for_the_current_state() {
        let sealer = sealer();
        assert_eq!(
            AppointmentTag::if_match(&sealer, None, &patient(1), &appointment_id("x")),
            IfMatch::Any
        );
        assert_eq!(
            AppointmentTag::if_match(&sealer, Some(" * "), &patient(1), &appointment_id("x")),
            IfMatch::Any
        );
    }

    #[test]
    fn the_first_matching_tag_of_a_list_is_used() {
        let sealer = sealer();
        let tag = AppointmentTag::seal(&sealer, &appointment()).unwrap();
        let header = format!("\"junk\", W/{tag}, {tag}");
        let opened =
            AppointmentTag::if_match(&sealer, Some(&header), &patient(1), &appointment_id("a"));
        assert!(matches!(opened, IfMatch::Tag(_)));
    }

    #[test]
    fn weak_forged_foreign_and_unquoted_tags_do_not_match() {
        let sealer = sealer();
        let id = appointment_id("a");
        let tag = AppointmentTag::seal(&sealer, &appointment()).unwrap();
        let unquoted = tag.trim_matches('"').to_owned();
        let mut altered = tag.clone();
        let at = tag.len() - 3;
        altered.replace_range(at..at + 1, if &tag[at..at + 1] == "A" { "B" } else { "A" });
        let foreign = AppointmentTag::seal(&foreign_keyset(), &appointment()).unwrap();
        for header in [
            format!("W/{tag}"),
            unquoted,
            altered,
            foreign,
            "\"\"".to_owned(),
            ",,".to_owned(),
        ] {
            assert_eq!(
                AppointmentTag::if_match(&sealer, Some(&header), &patient(1), &id),
                IfMatch::NoneMatch,
                "{header}"
            );
        }
        // A real tag, but of another patient's view or another appointment.
        assert_eq!(
            AppointmentTag::if_match(&sealer, Some(&tag), &patient(2), &id),
            IfMatch::NoneMatch
        );
        assert_eq!(
            AppointmentTag::if_match(&sealer, Some(&tag), &patient(1), &appointment_id("b")),
            IfMatch::NoneMatch
        );
    }

    #[test]
    fn a_tag_sealed_for_another_purpose_does_not_open() {
        let sealer = sealer();
        let other = sealer
            .sealer(Purpose::Availability)
            .seal_json(&appointment())
            .unwrap();
        assert_eq!(
            AppointmentTag::if_match(
                &sealer,
                Some(&format!("\"{other}\"")),
                &patient(1),
                &appointment_id("a")
            ),
            IfMatch::NoneMatch
        );
    }
}
