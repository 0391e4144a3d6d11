//! Signed, expiring join links for video consultations.
//!
//! The link carries a JWT signed with the video join-link key (ES256, `typ: video+jwt`), a key of
//! its own that only the `booking` function holds: the video service verifies it with the public
//! video JWKS (`/.well-known/video-jwks.json`), so no shared secret has to be handed to it, and it
//! rotates with the other keys. That key is in no JWKS that access tokens or id_tokens are checked
//! against (and is not RSA, which API Gateway's authorizer requires), so a leaked video key cannot
//! mint tokens. The token names the appointment (`sub`, also the room in the path) and expires
//! shortly after the consultation ends.

use serde::Serialize;
use url::Url;

use super::appointments::{Appointment, AppointmentStatus};
use super::schedule::format_in;
use super::BookingError;
use crate::config::DEFAULT_VIDEO_BASE_URL;
use crate::keys::KeySet;

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
    iat: i64,
    exp: i64,
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
        let aud = self.base.as_str().trim_end_matches('/');
        let token = keys
            .sign_video(
                TOKEN_TYPE,
                &JoinClaims {
                    iss: issuer,
                    aud,
                    sub: appointment.id.as_str(),
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
}
