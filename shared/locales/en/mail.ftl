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
