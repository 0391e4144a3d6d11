//! Keys: no function holds more than it needs, and a rotation never breaks a running instance.
//!
//! - `across`: instances started before a rotation (warm) and after it (new) accept everything
//!   the other minted: codes, sign-in requests, access tokens, id_tokens, refresh tokens,
//!   availability ids, ETags, unsubscribe links in mails, video join links.
//! - `stale`: an instance two rotations behind reloads its keys when it meets a newer one.
//! - `least_privilege`: what each function loads at start-up, and what it cannot do with it.
//! - `secrets`: the same on Secrets Manager (moto): one secret per function, the operator's apart.

use std::sync::Arc;

use lambda_http::{Body, Response};
use serde_json::Value;
use shared::boot::{Context, Handler};
use shared::keys::{KeySet, Role};
use testkit::{Event, TestContext};

mod across;
mod least_privilege;
mod secrets;
mod stale;

/// The five functions, each on its own key document, as instances started at one moment.
struct Generation {
    authorize: authorize_fn::App,
    token: token_fn::App,
    userinfo: userinfo_fn::App,
    booking: booking_fn::App,
    asap: asap_fn::App,
}

impl Generation {
    /// Instances of every function started now on `ctx`'s folder.
    fn start(ctx: &TestContext) -> Self {
        Self {
            authorize: authorize_fn::App::new(ctx.function(Role::Authorize)),
            token: token_fn::App::new(ctx.function(Role::Token)),
            userinfo: userinfo_fn::App::new(ctx.function(Role::Userinfo)),
            booking: booking_fn::App::new(ctx.function(Role::Booking)),
            asap: asap_fn::App::new(ctx.function(Role::Asap)),
        }
    }

    /// The keys an app runs with right now.
    fn keys(app: &impl Handler) -> Arc<KeySet> {
        app.context().keys.current()
    }

    /// The `kid` this generation's token function signs with.
    fn signing_kid(&self) -> String {
        Self::keys(&self.token)
            .active_kid()
            .expect("the token function signs")
            .to_owned()
    }

    /// How many times each function reloaded its keys.
    fn reloads(&self) -> [u64; 5] {
        let count = |context: &Context| context.keys.reloads();
        [
            count(self.authorize.context()),
            count(self.token.context()),
            count(self.userinfo.context()),
            count(self.booking.context()),
            count(self.asap.context()),
        ]
    }
}

async fn send(app: &impl Handler, event: Event) -> Response<Body> {
    app.handle(event.request()).await
}

fn json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

fn header(response: &Response<Body>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
