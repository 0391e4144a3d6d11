# Was jeder Scope einer App erlaubt, in einfachen Worten, wie die Einwilligungsseite sie nach
# „<App> möchte:“ auflistet (Deutsch). Die ID ist `scope-` und der Name des Scopes.

scope-openid = Sie mit Ihrem Patientenportal-Konto anmelden
scope-profile = Ihren Namen, Ihr Geburtsdatum und Ihre Sprache einsehen
scope-email = Ihre E-Mail-Adresse einsehen
scope-phone = Ihre Telefonnummer einsehen
scope-offline_access = Mit Ihrem Konto verbunden bleiben, auch wenn Sie die App gerade nicht nutzen
scope-profile_read = Ihr Patientenprofil lesen
scope-appointment_read = Ihre Termine einsehen
scope-appointment_write = Termine für Sie buchen, verschieben und absagen
