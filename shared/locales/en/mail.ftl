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
