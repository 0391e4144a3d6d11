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
