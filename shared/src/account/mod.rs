//! Patient accounts. No HTTP here: the `authorize` function turns the outcomes into pages.
//!
//! - [`console`]: the signed-in patient's own page, `/account` ([`AccountConsole`]): who may use
//!   it (a fresh enough session), the password check that guards its weightiest actions, and
//!   what the page shows;
//! - [`apps`]: connected apps and "remove access";
//! - [`settings`]: profile, password and language;
//! - [`deletion`]: deleting the account (GDPR Art. 17).

pub mod apps;
pub mod console;
pub mod deletion;
pub mod settings;

pub use console::{AccountConsole, Rejected};
