# The account page (`/account`) and its sign-in (English).

## Signing in to the account page

# Shown under "Sign in" when no app sent the patient.
console-login-intro = to manage your MyPatientPortal account
console-login-fine-print = For your security, the account page asks for your password again after 30 minutes.

## The page

console-title = Your account
# `$email` is shown in bold.
console-signed-in-as = Signed in as { $email }
console-done-profile = Your profile was saved.
console-done-password = Your password was changed. You were signed out everywhere else.
console-done-language = Your language was saved. Pages and emails use it from now on.
console-done-app-removed = The app’s access was removed. It has to ask you again before it can use your account.

console-profile-heading = Profile
console-given-name = Given name
console-family-name = Family name
console-birthdate = Date of birth
console-phone = Phone number (optional)
console-phone-hint = International format, for example +49 30 1234567. Leave empty to remove it.
console-profile-submit = Save profile
console-invalid-name = Enter a name of 1 to 100 characters.
console-invalid-birthdate = Enter a real date of birth as year-month-day, for example 1985-02-28.
console-invalid-phone = Enter the number in international format, for example +49 30 1234567.

console-password-heading = Password
console-current-password = Current password
console-new-password = New password
console-new-password-hint = At least 10 characters. Very common passwords are not accepted.
console-password-submit = Change password
console-password-missing = Enter your current password.
console-password-wrong = The password is incorrect.
console-password-short = Choose a password of at least 10 characters.
console-password-common = This password is one of the most common ones and easy to guess. Choose another.

console-language-heading = Language
console-language-legend = Language of pages and emails
console-language-submit = Save language

console-mfa-heading = Two-factor sign-in
console-mfa-none = You sign in with your password only.
console-mfa-setup = Set up an authenticator app
console-mfa-manage = Manage or turn off the authenticator app

console-apps-heading = Connected apps
console-apps-intro = These apps may use your account. Removing an app’s access ends it at once; the app has to ask you again.
console-apps-none = No app has access to your account.
console-apps-granted = Allowed
console-apps-last-used = Last used
console-apps-unknown = Unknown
console-apps-never = Not yet
# `$app` is the app’s name.
console-apps-remove = Remove access of { $app }

console-access-heading = Recent access by apps
console-access-none = No app has accessed your data in the last 30 days.
console-access-answered = Answered
# `$outcome` is the status class and error code, e.g. "4xx not_found".
console-access-refused = Refused ({ $outcome })

console-sessions-heading = Sign out everywhere
console-sessions-explanation = Ends every sign-in to MyPatientPortal, on this and every other device. Apps keep their access.
console-sessions-submit = Sign out everywhere

console-delete-heading = Delete account
console-delete-explanation = Deletes your account and personal data for good. Your upcoming appointments are cancelled and every app loses its access. This cannot be undone.
console-delete-password = Your password, to confirm
console-delete-submit = Delete my account

## After the page

console-signed-out-everywhere = You have been signed out on every device. Apps keep their access until you remove it.
    .title = Signed out everywhere
console-deleted = Your account and your personal data have been deleted, and your upcoming appointments cancelled. You can register again with the same email address at any time.
    .title = Your account was deleted

## Errors of the page's forms

console-language-unknown = Choose one of the languages offered. Go back and try again.
    .title = Unknown language
console-apps-unknown-client = This form does not name an app. Go back to your account page and try again.
    .title = Unknown app

## Changing the email address

console-email-heading = Email address
# `$email` is shown in bold.
console-email-current = You sign in and get mail at { $email }.
console-email-new = New email address
console-email-password = Your password, to confirm
console-email-submit = Send a confirmation link
console-email-hint = We send a link to the new address; the change happens when you open it. Your current address is told about it.
console-email-invalid = Enter a valid email address.
console-email-same = This is already your address.
console-email-limit = Too many links were sent. Please try again in an hour.
console-done-email-sent = We sent a link to your new address. Open it to finish the change; until then your address stays as it is.
console-email-confirm-title = Confirm your new email address
# `$email` is shown in bold.
console-email-confirm-intro = Use { $email } to sign in and receive mail from MyPatientPortal from now on?
console-email-confirm-submit = Use this address
console-email-changed = Your email address was changed. Sign in with the new address from now on.
    .title = Email address changed
console-email-taken = Another account already uses this address, so yours was not changed.
    .title = Address already in use
console-email-link-invalid = This link has expired, was used already, or your address changed since it was sent. Ask for a new one on your account page.
    .title = This link no longer works

account-mail-emailchange-subject = Confirm your new email address for MyPatientPortal
account-mail-emailchange-heading = Confirm your new email address
account-mail-emailchange-body = Someone asked to use this address for a MyPatientPortal account. To confirm, open the link within 24 hours:
account-mail-emailchange-link = Confirm this address
account-mail-emailchange-footer = If you did not ask for this, ignore this email: nothing changes.
account-mail-emailchanged-subject = Your MyPatientPortal email address was changed
account-mail-emailchanged-heading = Your email address was changed
account-mail-emailchanged-body = Your MyPatientPortal account now uses another email address, and mail no longer comes here. If this was not you, reset your password at once:
account-mail-emailchanged-link = Reset my password
account-mail-emailchanged-footer = If it was you, you do not need to do anything.
console-passkeys-count = Passkeys on your account: { $count }
console-passkeys-manage = Add or remove passkeys
