# Pages of the authorization server and of the ASAP unsubscribe link (English).
#
# Every language has the same files and the same message ids. Messages are plain text: the pages
# escape them. `.title` attributes are page headings (and window titles).

## Every page

# The name of this language, in itself: the label of its button on the language switch.
language-name = English
language-switch-label = Language

## Login

login-title = Sign in
# `$client` is shown in bold.
login-continue = to continue to { $client }
login-email = Email address
login-password = Password
login-submit = Sign in
login-fine-print = Only sign in if you trust { $client } and started this from its website or app.
login-bad-credentials = The email or password is incorrect.
login-too-many-attempts = Too many unsuccessful sign-in attempts. Please wait 15 minutes and try again.
login-missing-credentials = Enter your email address and password.
login-unverified = Please confirm your email address first: open the link we sent you.

## Consent

consent-title = Allow access
consent-heading = Allow { $client } to access your account?
# `$client` is shown in bold; the list of what the app asks for follows.
consent-intro = { $client } is asking to:
consent-allow = Allow
consent-deny = Deny
consent-fine-print = Only allow this if you trust { $client }. If you deny, you return to the app without sharing anything.

## Signing out

logout-confirm-title = Sign out
logout-confirm-heading = Sign out of MyPatientPortal?
logout-confirm-explanation = An app asked to sign you out of MyPatientPortal. Sign out if you asked for this; otherwise you can close this window and stay signed in.
logout-confirm-submit = Sign out
signed-out = You have been signed out of MyPatientPortal. You can close this window.
    .title = You are signed out
# `$detail` is a technical note in English for the app’s developers.
signed-out-no-return = You have been signed out of MyPatientPortal, but the app’s request to send you back could not be accepted, so you stay here. You can close this window. (For the app’s developer: { $detail }.)
    .title = You are signed out

## Errors

error-unknown-client = The app that sent you here is not registered with MyPatientPortal, so you cannot sign in to it. (For the app’s developer: the client_id is missing or unknown.)
    .title = This app is not recognised
error-bad-redirect-uri = The app that sent you here asked to be sent back to an address it has not registered, so for your safety you are not sent there. (For the app’s developer: the redirect_uri is missing or does not exactly match a registered one.)
    .title = This sign-in link is not valid
error-request-expired = Your sign-in request expired or is no longer valid. Go back to the app and start again.
    .title = Your sign-in request expired
error-csrf = For your security, this form could not be accepted. Go back to the app and start signing in again. If this keeps happening, allow cookies for this site.
    .title = This form could not be accepted
error-missing-decision = Choose Allow or Deny. Go back and try again.
    .title = Something is missing
error-unavailable = The service is busy or briefly unavailable. Please try again in a moment.
    .title = Please try again in a moment
error-internal = We could not complete your request. Please go back to the app and try again later.
    .title = Something went wrong
error-unreadable-form = Your browser sent something this page does not accept. Go back and try again.
    .title = The form could not be read

## The unsubscribe link of ASAP emails

unsubscribe-title = Stop earlier-appointment emails
unsubscribe-heading = Stop earlier-appointment emails?
# `$type` is the appointment type, `$when` the appointment’s date and time.
unsubscribe-explanation = You will no longer be told when an earlier time frees up for your { $type } appointment on { $when }. Your appointment itself stays booked.
unsubscribe-submit = Stop the emails
unsubscribe-done = You will no longer get emails about earlier times for this appointment. Your appointment itself stays booked.
    .title = You are unsubscribed
unsubscribe-already = The emails this link was sent for have already been stopped, or the appointment has changed. There is nothing more to do.
    .title = Already unsubscribed
unsubscribe-invalid = The unsubscribe link is incomplete, damaged or has expired. Copy the whole link from the email, or stop the emails in the app you booked with.
    .title = This link does not work

## The confirmation link of ASAP notification addresses

confirm-title = Confirm your email address
confirm-heading = Confirm earlier-appointment emails to { $email }?
# `$app` is the app, `$institution` the practice or hospital, `$type` the appointment type, `$when` its date and time.
confirm-explanation = The app “{ $app }” asked { $institution } to email this address when an earlier time frees up for a { $type } appointment on { $when }.
confirm-submit = Yes, send them to this address
confirm-not-me = This wasn’t me
confirm-done = Your address is confirmed. You will be told here when an earlier time frees up.
    .title = Address confirmed
confirm-already = This address was already confirmed, or the request has changed or ended. There is nothing more to do.
    .title = Nothing to confirm
confirm-not-me-done = Thank you. This address gets no more confirmation requests for 30 days, and nothing is sent to it.
    .title = Request declined
confirm-invalid = The confirmation link is incomplete, damaged or has expired. Copy the whole link from the email.
    .title = This link does not work

## The API documentation's sign-in return page (the "Authorize" popup of /api-docs closes itself)

docs-redirect-returning = Returning to the API documentation…
    .title = Signing in to the API documentation
docs-redirect-needs-script = Signing in to the API documentation needs JavaScript. Close this window and use an app instead.

## Second factor (sign-in) and the authenticator app (account)

mfa-title = Confirm it is you
mfa-explanation = Enter the 6-digit code your authenticator app shows for MyPatientPortal, or one of your recovery codes.
mfa-code = Your code
mfa-submit = Confirm
mfa-recovery-hint = Lost your phone? Each recovery code works once; the codes you have not used yet are listed on the paper or in the file you kept.
mfa-wrong-code = That code is not right. Check the code in your authenticator app and try again.
mfa-used-code = That code was already used. Wait for the next code in your authenticator app.
mfa-too-many-attempts = Too many wrong codes. Please wait 15 minutes and try again.
totp-enrol-title = Set up an authenticator app
totp-enrol-scan = Scan this QR code with an authenticator app (for example Google Authenticator, Microsoft Authenticator, FreeOTP or your password manager).
totp-enrol-qr-label = QR code for your authenticator app
totp-enrol-manual = Cannot scan? Enter this key in the app instead:
totp-enrol-uri = Show the setup link
totp-enrol-code = The 6-digit code the app now shows
totp-enrol-submit = Turn on
totp-enrol-expired = This setup page has expired. A new key is shown below: add it to your app again.
totp-already-enrolled = An authenticator app is already set up for your account.
recovery-codes-title = Your recovery codes
recovery-codes-done = Your authenticator app is now on: signing in needs your password and a code.
recovery-codes-explanation = If you lose your phone, each of these codes lets you sign in once. Print them or keep them somewhere safe.
recovery-codes-once = They are shown only now.
recovery-codes-continue = Continue
totp-active-title = Authenticator app
# `$count` is how many recovery codes have not been used yet.
totp-active-status = Your authenticator app is on. Recovery codes left: { $count }.
totp-remove-heading = Turn off the authenticator app
totp-remove-explanation = Enter a current code from the app, or, if you lost it, your password and a recovery code.
totp-remove-code = Current code from the app
totp-remove-or = Or, without the app:
totp-remove-recovery = A recovery code
totp-remove-submit = Turn off
totp-remove-refused = The code, or the password and recovery code, are not right. The authenticator app stays on.
totp-removed = The authenticator app is turned off. Signing in needs only your password now.
    .title = Authenticator app turned off
## Patient accounts: registration, verification, password recovery
login-forgot = Forgot your password?
login-register = New here? Create an account
account-register-title = Create an account
account-register-intro = You will get an email with a link to confirm your address. Until then you cannot sign in.
account-register-fix = Please correct the fields marked below.
account-register-submit = Create account
account-new-password = New password
account-password-rules = At least 10 characters. Very common passwords are not accepted.
account-given-name = Given name
account-family-name = Family name
account-birthdate = Date of birth
account-phone = Phone number (optional, international format, e.g. +49 30 1234567)
account-error-email = Enter a valid email address.
account-error-password-length = The password must be at least 10 characters long.
account-error-password-common = This password is too common. Choose a less predictable one.
account-error-given-name = Enter your given name.
account-error-family-name = Enter your family name.
account-error-birthdate = Enter a real date of birth (YYYY-MM-DD), not in the future.
account-error-phone = Enter the phone number in international format, e.g. +49 30 1234567, or leave it empty.
account-too-many = Too many requests. Please wait an hour and try again.
account-check-mail = We sent an email to the address you entered. Open the link in it to go on. If it does not arrive within a few minutes, check your spam folder.
    .title = Check your email
account-resend-title = Send the confirmation link again
account-resend-intro = Enter your email address. If it belongs to an account that is not confirmed yet, we send a new confirmation link.
account-resend-submit = Send the confirmation link again
account-forgot-title = Reset your password
account-forgot-intro = Enter the email address of your account. If there is an account with this address, we send a link to choose a new password. The link works for 30 minutes.
account-forgot-submit = Send the reset link
account-verify-title = Confirm your email address
# `$email` is shown emphasised.
account-verify-intro = Press the button to confirm { $email } for your account.
account-verify-submit = Confirm my address
account-verified = Your email address is confirmed. You can sign in now.
    .title = Address confirmed
account-continue = Continue to sign in
account-link-invalid = This link has expired, was already used, or is not valid. You can ask for a new one.
    .title = This link no longer works
account-reset-title = Choose a new password
account-reset-sign-out-apps = Also sign me out of all apps
account-reset-sessions = Changing your password signs you out everywhere on this portal. Apps you connected keep their access unless you tick the box above.
account-reset-submit = Save the new password
account-claim-intro = Your address had an account that was never confirmed, so someone else may have created it. Enter your own details: they make a new account for this address, and the unconfirmed one is removed.
account-claimed = Your account is ready and your address is confirmed. You can sign in now.
    .title = Account created
account-password-changed = Your password has been changed. Sign in with your new password.
    .title = Password changed
passkey-sign-in-link = Sign in with a passkey
passkey-sign-in-title = Sign in with a passkey
passkey-sign-in-explanation = Your browser or phone asks you to unlock your passkey with your fingerprint, face or screen lock. You need neither your email address nor your password.
passkey-sign-in-submit = Use my passkey
passkey-use-password = Sign in with your password instead
passkey-needs-script = Passkeys need JavaScript, which is turned off in this browser. You can sign in with your password.
passkey-browser-failed = Your browser did not use a passkey: it was cancelled, took too long, or passkeys are not available here. Try again, or use your password.
passkey-refused = This passkey could not be checked; it may have been removed from your account. Try again, or sign in with your password.
passkey-expired = This passkey request has expired. Please try again.
passkey-counter = This passkey reported a lower use count than before, which can mean it was copied, so it was not accepted. Sign in with your password and check your passkeys on your account page.
passkey-remove-refused = The password is not right. The passkey was not removed.
passkey-duplicate = This passkey is already on your account.
passkey-step-up-link = Use a passkey instead
passkeys-title = Passkeys
passkeys-explanation = A passkey lets you sign in with your fingerprint, face or screen lock instead of your password. It counts as two factors.
passkeys-added = The passkey “{ $name }” was added. We sent you an email about it.
passkeys-removed = The passkey was removed.
passkeys-list-heading = Your passkeys
passkeys-none = You have no passkeys yet.
passkeys-created = Added: { $when }
passkeys-last-used = Last used: { $when }
passkeys-never = never
passkeys-synced = Synced across your devices
passkeys-device-bound = Kept on one device only
passkeys-remove-password = Your password, to remove “{ $name }”
passkeys-remove-submit = Remove “{ $name }”
passkeys-add-heading = Add a passkey
passkeys-name = A name for the new passkey, for example “My phone”
passkeys-add-submit = Add a passkey
passkeys-back = Back to your account
error-passkeys-off = Passkeys are not available on this portal. Please sign in with your password.
    .title = Passkeys are not available
error-missing-passkey-action = Choose whether to add or remove a passkey. Go back and try again.
    .title = Something is missing
