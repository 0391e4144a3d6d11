//! Signed, expiring join links for video consultations, and their check by the video service.
//!
//! The link carries a JWT signed with the video join-link key (ES256, `typ: video+jwt`), a key of
//! its own that only the `booking` function holds: the video service verifies it with the public
//! video JWKS (`/.well-known/video-jwks.json`), so no shared secret has to be handed to it, and it
//! rotates with the other keys. That key is in no JWKS that access tokens or id_tokens are checked
//! against (and is not RSA, which API Gateway's authorizer requires), so a leaked video key cannot
//! mint tokens. The token names the appointment (`sub`, also the room in the path), whose patient
//! it is, and the slot it was minted for (`starts_at`, `ends_at`); it expires shortly after the
//! consultation ends.
//!
//! A signature alone cannot tell that the appointment was cancelled or moved since the link was
//! minted, so the video service also asks the portal ([`VERIFY_PATH`]): a link is live only while
//! its appointment is booked at exactly the slot the token names. The binding is to the slot, not
//! to the appointment's revision, because ASAP subscription changes bump the revision too and must
//! not kill a join link; a reschedule always changes the slot, so a moved appointment's old link
//! is dead and a new one has to be fetched.

use serde::{Deserialize, Serialize};
use url::Url;

use super::appointments::{Appointment, AppointmentId, AppointmentStatus};
use super::schedule::format_in;
use super::BookingError;
use crate::config::DEFAULT_VIDEO_BASE_URL;
use crate::domain::patient::PatientId;
use crate::jwt::{self, JwtError};
use crate::keys::KeySet;

/// Where the video service checks a join token (`POST`, JSON `{"token": "…"}`): not a bearer API
/// route, the signed token is the credential.
pub const VERIFY_PATH: &str = "/video/verify";

/// The JWT `typ` of join tokens.
pub const TOKEN_TYPE: &str = "video+jwt";

/// A join link stays valid this long after the consultation's scheduled end.
pub const GRACE_SECONDS: i64 = 30 * 60;

/// Builds join links for one video service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoLinks {
    base: Url,
}

#[derive(Serialize)]
struct JoinClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    /// Whose appointment: with `sub`, the key of the one read that checks the link.
    patient_id: &'a str,
    starts_at: i64,
    ends_at: i64,
    iat: i64,
    exp: i64,
}

/// What a join token says, once its signature, type, issuer, audience and expiry are checked.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct JoinTicket {
    /// The appointment (the room).
    #[serde(rename = "sub")]
    pub appointment_id: AppointmentId,
    /// Whose appointment it is.
    pub patient_id: PatientId,
    /// Start of the slot the link was minted for (unix seconds).
    pub starts_at: i64,
    /// End of that slot (unix seconds).
    pub ends_at: i64,
    /// When the link stops working (unix seconds).
    pub exp: i64,
}

impl JoinTicket {
    /// Whether the link still admits to `appointment`: it is the same appointment, still booked,
    /// still a video consultation, at exactly the slot the link was minted for.
    pub fn admits(&self, appointment: &Appointment) -> bool {
        appointment.id == self.appointment_id
            && appointment.patient_id == self.patient_id
            && appointment.status == AppointmentStatus::Booked
            && appointment.video_consultation
            && appointment.starts_at == self.starts_at
            && appointment.ends_at == self.ends_at
    }
}

/// The body of a [`VERIFY_PATH`] request.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct VerifyRequest {
    /// The `token` query parameter of the join link.
    pub token: String,
}

/// The answer of [`VERIFY_PATH`]: like token introspection (RFC 7662), `active: false` says
/// nothing about why (forged, expired, cancelled or moved), the other fields only come with
/// `active: true`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VideoVerification {
    /// Whether the link admits to its consultation now.
    pub active: bool,
    /// The appointment (the room).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<String>,
    /// Its start, ISO 8601 with the institution's offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    /// Its end, ISO 8601 with the institution's offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
    /// When the link stops working, ISO 8601 with the institution's offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl VideoVerification {
    /// The answer for a live link to `appointment`.
    pub fn active(ticket: &JoinTicket, appointment: &Appointment) -> Self {
        let zone = appointment.time_zone;
        Self {
            active: true,
            appointment_id: Some(appointment.id.to_string()),
            starts_at: Some(format_in(zone, appointment.starts_at)),
            ends_at: Some(format_in(zone, appointment.ends_at)),
            expires_at: Some(format_in(zone, ticket.exp)),
        }
    }

    /// The answer for every other token.
    pub fn inactive() -> Self {
        Self::default()
    }
}

/// A join link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VideoLink {
    /// The URL to open (it carries a signed token naming the appointment).
    #[schema(format = "uri")]
    pub url: String,
    /// When it stops working, ISO 8601 with the institution's offset.
    #[schema(example = "2026-12-01T10:00:00+01:00")]
    pub expires_at: String,
}

impl Default for VideoLinks {
    /// Links under [`DEFAULT_VIDEO_BASE_URL`].
    fn default() -> Self {
        Self {
            base: Url::parse(DEFAULT_VIDEO_BASE_URL)
                .expect("the default video URL is a valid constant"),
        }
    }
}

impl VideoLinks {
    /// Links under `base`: the configuration's `video_base_url` (`PORTAL_VIDEO_BASE_URL`), which
    /// start-up has checked is https, or http on a loopback host for local runs.
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    /// The join link of a booked video appointment; 409 for other appointments or once it is over.
    pub fn link(
        &self,
        keys: &KeySet,
        issuer: &str,
        appointment: &Appointment,
        now: i64,
    ) -> Result<VideoLink, BookingError> {
        if !appointment.video_consultation {
            return Err(BookingError::Conflict {
                code: "not_video_consultation",
                description: "this appointment is not a video consultation".into(),
            });
        }
        if appointment.status != AppointmentStatus::Booked {
            return Err(BookingError::Conflict {
                code: "appointment_cancelled",
                description: "this appointment was cancelled".into(),
            });
        }
        let exp = appointment.ends_at + GRACE_SECONDS;
        if now >= exp {
            return Err(BookingError::Conflict {
                code: "consultation_over",
                description: "this video consultation is over".into(),
            });
        }
        let aud = self.audience();
        let token = keys
            .sign_video(
                TOKEN_TYPE,
                &JoinClaims {
                    iss: issuer,
                    aud,
                    sub: appointment.id.as_str(),
                    patient_id: appointment.patient_id.as_str(),
                    starts_at: appointment.starts_at,
                    ends_at: appointment.ends_at,
                    iat: now,
                    exp,
                },
            )
            .map_err(|e| BookingError::Internal(format!("signing a video link: {e}")))?;
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| BookingError::Internal("video base URL cannot have a path".into()))?
            .pop_if_empty()
            .push(appointment.id.as_str());
        url.query_pairs_mut().append_pair("token", &token);
        Ok(VideoLink {
            url: url.to_string(),
            expires_at: format_in(appointment.time_zone, exp),
        })
    }

    /// Checks a join token's signature (any key of the set, so links survive a rotation), type,
    /// issuer, audience (this video service) and expiry, and returns what it says. Whether its
    /// appointment still holds that slot is [`JoinTicket::admits`].
    pub fn open(
        &self,
        keys: &KeySet,
        issuer: &str,
        token: &str,
        now: i64,
    ) -> Result<JoinTicket, JwtError> {
        let ticket: JoinTicket =
            jwt::verify_video(keys, token, TOKEN_TYPE, issuer, self.audience())?;
        // `jwt::verify` allows clock skew on `exp`; a join link ends exactly when it says.
        if now >= ticket.exp {
            return Err(JwtError::Expired);
        }
        Ok(ticket)
    }

    fn audience(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::keys::test_support::keyset_of;
    use crate::keys::Role;

    fn keys() -> KeySet {
        keyset_of(&[Role::Booking])
    }

    const ISSUER: &str = "https://portal.example";
    const NOW: i64 = 1_800_000_000;

    fn appointment() -> Appointment {
        Appointment {
            id: AppointmentId::parse(&"v".repeat(AppointmentId::LEN)).unwrap(),
            patient_id: PatientId::parse("patient1").unwrap(),
            status: AppointmentStatus::Booked,
            type_id: 199,
            type_name: "Video consultation".into(),
            category_id: 53,
            category_name: "General".into(),
            insurance_id: 136,
            starts_at: NOW + 3600,
            ends_at: NOW + 4800,
            time_zone: Berlin,
            video_consultation: true,
            asap_opt_in: false,
            email: None,
            email_confirmed: false,
            asap_subscription_id: None,
            asap_since: None,
            comment: None,
            cancellation_notice_hours: 24,
            created_at: NOW - 86_400,
            revision: 1,
            limit_counted: true,
        }
    }

    fn token(links: &VideoLinks, keys: &KeySet, appointment: &Appointment) -> String {
        let link = links.link(keys, ISSUER, appointment, NOW).unwrap();
        let url = Url::parse(&link.url).unwrap();
        let (_, token) = url.query_pairs().find(|(k, _)| k == "token").unwrap();
        token.into_owned()
    }

    #[test]
    fn a_link_admits_only_to_its_booked_appointment_at_the_slot_it_was_minted_for() {
        let (links, keys, booked) = (VideoLinks::default(), keys(), appointment());
        let ticket = links
            .open(&keys, ISSUER, &token(&links, &keys, &booked), NOW)
            .unwrap();
        assert!(ticket.admits(&booked));
        // ASAP changes bump the revision; the consultation is the same.
        let subscribed = Appointment {
            revision: 2,
            asap_opt_in: true,
            ..booked.clone()
        };
        assert!(ticket.admits(&subscribed));
        let cancelled = Appointment {
            status: AppointmentStatus::Cancelled,
            ..booked.clone()
        };
        assert!(!ticket.admits(&cancelled));
        let moved = Appointment {
            starts_at: booked.starts_at + 1800,
            ends_at: booked.ends_at + 1800,
            ..booked.clone()
        };
        assert!(!ticket.admits(&moved));
    }

    #[test]
    fn a_link_for_another_service_or_issuer_or_after_its_expiry_does_not_open() {
        let (links, keys, booked) = (VideoLinks::default(), keys(), appointment());
        let token = token(&links, &keys, &booked);
        let other = VideoLinks::new(Url::parse("https://other-video.example/join").unwrap());
        assert_eq!(
            other.open(&keys, ISSUER, &token, NOW),
            Err(JwtError::WrongAudience)
        );
        assert_eq!(
            links.open(&keys, "https://elsewhere.example", &token, NOW),
            Err(JwtError::WrongIssuer)
        );
        let exp = booked.ends_at + GRACE_SECONDS;
        assert!(links.open(&keys, ISSUER, &token, exp - 1).is_ok());
        assert_eq!(
            links.open(&keys, ISSUER, &token, exp),
            Err(JwtError::Expired)
        );
    }
}
