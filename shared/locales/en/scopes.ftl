# What each scope lets an app do, in plain words, as the consent page lists them after
# "<app> is asking to:" (English). The id is `scope-` and the scope's name.

scope-openid = Sign you in with your patient portal account
scope-profile = See your name, date of birth and language
scope-email = See your email address
scope-phone = See your phone number
scope-offline_access = Stay connected to your account while you are not using the app
scope-profile_read = Read your patient profile
scope-appointment_read = See your appointments
scope-appointment_write = Book, reschedule and cancel appointments for you
