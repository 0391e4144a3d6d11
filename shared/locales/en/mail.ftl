# Emails (English). Each mail has a subject, a plain-text and an HTML body; both bodies use the
# same messages.

## The ASAP notice: an earlier appointment is free

# `$offered` is the earlier date and time.
asap-mail-subject = Earlier appointment free: { $offered }
asap-mail-heading = Good news: an earlier appointment is free
asap-mail-offered = Earlier time
asap-mail-current = Your appointment
asap-mail-how = To take it, open the health app you booked with and move your appointment to the earlier time. Free times go to whoever books first, so it may be gone if you wait.
asap-mail-why = You get this email because you asked to be told about earlier appointments.
asap-mail-stop-link = Stop these emails for this appointment
asap-mail-stop-text = To stop these emails for this appointment, open:

## The ASAP address confirmation: an app asked to send earlier-appointment emails here

# `$institution` is the practice or hospital.
asap-confirm-mail-subject = Please confirm your email address for { $institution }
asap-confirm-mail-heading = Confirm your email address for earlier-appointment emails
# `$app` is the app that gave this address, `$institution` the practice or hospital.
asap-confirm-mail-asked = The app “{ $app }” asked { $institution } to send emails about earlier free appointments to this address for this appointment:
asap-confirm-mail-open = To confirm, open this link and press the button:
asap-confirm-mail-link = Confirm or decline
asap-confirm-mail-not-me = If you did not ask for this, open the link and choose “This wasn’t me”, or ignore this email: nothing is sent to this address unless you confirm.

## Account mails
account-mail-open = Open this link:
account-mail-verify-subject = Confirm your email address for MyPatientPortal
account-mail-verify-heading = Confirm your email address
account-mail-verify-body = You created an account on MyPatientPortal. To confirm that this address is yours, open the link below and press the button. The link works for 24 hours.
account-mail-verify-link = Confirm my address
account-mail-verify-footer = If you did not create an account, ignore this email: the account is removed after 7 days unless the address is confirmed.
account-mail-attempt-subject = Someone tried to create an account with your address
account-mail-attempt-heading = Your address already has an account
account-mail-attempt-body = Someone tried to create a new MyPatientPortal account with this email address, which already has an account. No new account was created. If it was you and you forgot your password, you can choose a new one:
account-mail-attempt-link = Reset my password
account-mail-attempt-footer = If it was not you, you do not need to do anything: your account is unchanged.
account-mail-reset-subject = Reset your MyPatientPortal password
account-mail-reset-heading = Choose a new password
account-mail-reset-body = Someone asked to reset the password of your MyPatientPortal account. To choose a new password, open the link below. It works once, for 30 minutes.
account-mail-reset-link = Choose a new password
account-mail-reset-footer = If you did not ask for this, ignore this email: your password stays as it is.
account-mail-changed-subject = Your MyPatientPortal password was changed
account-mail-changed-heading = Your password was changed
account-mail-changed-body = The password of your MyPatientPortal account was just changed, and the portal signed you out on your other devices and browsers. If this was not you, reset your password at once:
account-mail-changed-link = Reset my password
account-mail-changed-footer = If it was you, you do not need to do anything.
account-mail-passkeyadded-subject = A passkey was added to your MyPatientPortal account
account-mail-passkeyadded-heading = A passkey was added
account-mail-passkeyadded-body = A passkey was just added to your MyPatientPortal account: it can now be used to sign in without your password. If this was not you, sign in, remove the passkey and change your password at once:
account-mail-passkeyadded-link = Review my passkeys
account-mail-passkeyadded-footer = If it was you, you do not need to do anything.
