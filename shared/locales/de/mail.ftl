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
