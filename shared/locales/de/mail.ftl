# E-Mails (Deutsch). Jede E-Mail hat einen Betreff, einen Text- und einen HTML-Teil; beide Teile
# verwenden dieselben Nachrichten.

## ASAP-Benachrichtigung: Ein früherer Termin ist frei

asap-mail-subject = Früherer Termin frei: { $offered }
asap-mail-heading = Gute Nachricht: Ein früherer Termin ist frei
asap-mail-offered = Früherer Termin
asap-mail-current = Ihr Termin
asap-mail-how = Um ihn wahrzunehmen, öffnen Sie die Gesundheits-App, mit der Sie gebucht haben, und verschieben Sie Ihren Termin auf die frühere Zeit. Freie Termine erhält, wer zuerst bucht – wenn Sie warten, ist dieser Termin vielleicht schon vergeben.
asap-mail-why = Sie erhalten diese E-Mail, weil Sie über frühere Termine informiert werden möchten.
asap-mail-stop-link = Diese E-Mails für diesen Termin abbestellen
asap-mail-stop-text = Um diese E-Mails für diesen Termin abzubestellen, öffnen Sie:

## Bestätigung der Adresse für Mitteilungen über frühere Termine

asap-confirm-mail-subject = Bitte bestätigen Sie Ihre E-Mail-Adresse für { $institution }
asap-confirm-mail-heading = Bestätigen Sie Ihre E-Mail-Adresse für Mitteilungen über frühere Termine
asap-confirm-mail-asked = Die App „{ $app }“ hat { $institution } gebeten, Mitteilungen über frei gewordene frühere Termine für diesen Termin an diese Adresse zu senden:
asap-confirm-mail-open = Zum Bestätigen öffnen Sie diesen Link und drücken Sie die Schaltfläche:
asap-confirm-mail-link = Bestätigen oder ablehnen
asap-confirm-mail-not-me = Wenn Sie das nicht veranlasst haben, öffnen Sie den Link und wählen Sie „Das war ich nicht“, oder ignorieren Sie diese E-Mail: Ohne Ihre Bestätigung wird nichts an diese Adresse gesendet.

## Konto-E-Mails
account-mail-open = Öffnen Sie diesen Link:
account-mail-verify-subject = Bestätigen Sie Ihre E-Mail-Adresse für MyPatientPortal
account-mail-verify-heading = E-Mail-Adresse bestätigen
account-mail-verify-body = Sie haben ein Konto bei MyPatientPortal angelegt. Um zu bestätigen, dass diese Adresse Ihnen gehört, öffnen Sie den Link unten und drücken Sie die Schaltfläche. Der Link ist 24 Stunden gültig.
account-mail-verify-link = Meine Adresse bestätigen
account-mail-verify-footer = Wenn Sie kein Konto angelegt haben, ignorieren Sie diese E-Mail: Das Konto wird nach 7 Tagen gelöscht, wenn die Adresse nicht bestätigt wird.
account-mail-attempt-subject = Jemand wollte mit Ihrer Adresse ein Konto anlegen
account-mail-attempt-heading = Zu Ihrer Adresse gibt es schon ein Konto
account-mail-attempt-body = Jemand wollte mit dieser E-Mail-Adresse ein neues Konto bei MyPatientPortal anlegen, doch zu ihr gibt es bereits ein Konto. Es wurde kein neues Konto angelegt. Wenn Sie das waren und Ihr Passwort vergessen haben, können Sie ein neues wählen:
account-mail-attempt-link = Mein Passwort zurücksetzen
account-mail-attempt-footer = Wenn Sie das nicht waren, müssen Sie nichts tun: Ihr Konto ist unverändert.
account-mail-reset-subject = Ihr Passwort bei MyPatientPortal zurücksetzen
account-mail-reset-heading = Neues Passwort wählen
account-mail-reset-body = Jemand hat angefordert, das Passwort Ihres Kontos bei MyPatientPortal zurückzusetzen. Um ein neues Passwort zu wählen, öffnen Sie den Link unten. Er funktioniert einmal und 30 Minuten lang.
account-mail-reset-link = Neues Passwort wählen
account-mail-reset-footer = Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.
account-mail-changed-subject = Ihr Passwort bei MyPatientPortal wurde geändert
account-mail-changed-heading = Ihr Passwort wurde geändert
account-mail-changed-body = Das Passwort Ihres Kontos bei MyPatientPortal wurde soeben geändert, und das Portal hat Sie auf Ihren anderen Geräten und Browsern abgemeldet. Wenn Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück:
account-mail-changed-link = Mein Passwort zurücksetzen
account-mail-changed-footer = Wenn Sie das waren, müssen Sie nichts tun.
account-mail-passkeyadded-subject = Ihrem Konto bei MyPatientPortal wurde ein Passkey hinzugefügt
account-mail-passkeyadded-heading = Ein Passkey wurde hinzugefügt
account-mail-passkeyadded-body = Ihrem Konto bei MyPatientPortal wurde soeben ein Passkey hinzugefügt: Damit kann man sich jetzt ohne Ihr Passwort anmelden. Wenn Sie das nicht waren, melden Sie sich an, entfernen Sie den Passkey und ändern Sie sofort Ihr Passwort:
account-mail-passkeyadded-link = Meine Passkeys ansehen
account-mail-passkeyadded-footer = Wenn Sie das waren, müssen Sie nichts tun.
