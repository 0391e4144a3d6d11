# Die Kontoseite (`/account`) und ihre Anmeldung (Deutsch).

## Anmeldung zur Kontoseite

# Steht unter „Anmelden“, wenn keine App die Patientin geschickt hat.
console-login-intro = um Ihr MyPatientPortal-Konto zu verwalten
console-login-fine-print = Zu Ihrer Sicherheit fragt die Kontoseite nach 30 Minuten erneut nach Ihrem Passwort.

## Die Seite

console-title = Ihr Konto
# `$email` wird fett gezeigt.
console-signed-in-as = Angemeldet als { $email }
console-done-profile = Ihr Profil wurde gespeichert.
console-done-password = Ihr Passwort wurde geändert. Überall sonst wurden Sie abgemeldet.
console-done-language = Ihre Sprache wurde gespeichert. Seiten und E-Mails verwenden sie ab jetzt.
console-done-app-removed = Der Zugriff der App wurde entfernt. Sie muss Sie erneut fragen, bevor sie Ihr Konto nutzen kann.

console-profile-heading = Profil
console-given-name = Vorname
console-family-name = Nachname
console-birthdate = Geburtsdatum
console-phone = Telefonnummer (freiwillig)
console-phone-hint = Internationales Format, zum Beispiel +49 30 1234567. Leer lassen, um sie zu entfernen.
console-profile-submit = Profil speichern
console-invalid-name = Geben Sie einen Namen mit 1 bis 100 Zeichen ein.
console-invalid-birthdate = Geben Sie ein echtes Geburtsdatum als Jahr-Monat-Tag ein, zum Beispiel 1985-02-28.
console-invalid-phone = Geben Sie die Nummer im internationalen Format ein, zum Beispiel +49 30 1234567.

console-password-heading = Passwort
console-current-password = Aktuelles Passwort
console-new-password = Neues Passwort
console-new-password-hint = Mindestens 10 Zeichen. Sehr häufige Passwörter werden nicht angenommen.
console-password-submit = Passwort ändern
console-password-missing = Geben Sie Ihr aktuelles Passwort ein.
console-password-wrong = Das Passwort ist falsch.
console-password-short = Wählen Sie ein Passwort mit mindestens 10 Zeichen.
console-password-common = Dieses Passwort gehört zu den häufigsten und ist leicht zu erraten. Wählen Sie ein anderes.

console-language-heading = Sprache
console-language-legend = Sprache der Seiten und E-Mails
console-language-submit = Sprache speichern

console-mfa-heading = Anmeldung mit zweitem Faktor
console-mfa-none = Sie melden sich nur mit Ihrem Passwort an.
console-mfa-setup = Authenticator-App einrichten
console-mfa-manage = Authenticator-App verwalten oder ausschalten

console-apps-heading = Verbundene Apps
console-apps-intro = Diese Apps dürfen Ihr Konto nutzen. Wenn Sie den Zugriff einer App entfernen, endet er sofort; die App muss Sie erneut fragen.
console-apps-none = Keine App hat Zugriff auf Ihr Konto.
console-apps-granted = Erlaubt
console-apps-last-used = Zuletzt genutzt
console-apps-unknown = Unbekannt
console-apps-never = Noch nicht
# `$app` ist der Name der App.
console-apps-remove = Zugriff von { $app } entfernen

console-access-heading = Letzte Zugriffe durch Apps
console-access-none = In den letzten 30 Tagen hat keine App auf Ihre Daten zugegriffen.
console-access-answered = Beantwortet
# `$outcome` ist die Statusklasse mit Fehlercode, z. B. „4xx not_found“.
console-access-refused = Abgelehnt ({ $outcome })

console-sessions-heading = Überall abmelden
console-sessions-explanation = Beendet jede Anmeldung bei MyPatientPortal, auf diesem und jedem anderen Gerät. Apps behalten ihren Zugriff.
console-sessions-submit = Überall abmelden

console-delete-heading = Konto löschen
console-delete-explanation = Löscht Ihr Konto und Ihre persönlichen Daten endgültig. Ihre kommenden Termine werden abgesagt, und jede App verliert ihren Zugriff. Das kann nicht rückgängig gemacht werden.
console-delete-password = Ihr Passwort zur Bestätigung
console-delete-submit = Mein Konto löschen

## Nach der Seite

console-signed-out-everywhere = Sie wurden auf allen Geräten abgemeldet. Apps behalten ihren Zugriff, bis Sie ihn entfernen.
    .title = Überall abgemeldet
console-deleted = Ihr Konto und Ihre persönlichen Daten wurden gelöscht und Ihre kommenden Termine abgesagt. Sie können sich jederzeit mit derselben E-Mail-Adresse neu registrieren.
    .title = Ihr Konto wurde gelöscht

## Fehler der Formulare der Seite

console-language-unknown = Wählen Sie eine der angebotenen Sprachen. Gehen Sie zurück und versuchen Sie es erneut.
    .title = Unbekannte Sprache
console-apps-unknown-client = Dieses Formular nennt keine App. Gehen Sie zurück zu Ihrer Kontoseite und versuchen Sie es erneut.
    .title = Unbekannte App

## E-Mail-Adresse ändern

console-email-heading = E-Mail-Adresse
# `$email` wird fett gezeigt.
console-email-current = Sie melden sich mit { $email } an und erhalten dort E-Mails.
console-email-new = Neue E-Mail-Adresse
console-email-password = Ihr Passwort zur Bestätigung
console-email-submit = Bestätigungslink senden
console-email-hint = Wir senden einen Link an die neue Adresse; die Änderung geschieht, wenn Sie ihn öffnen. Ihre bisherige Adresse wird darüber informiert.
console-email-invalid = Geben Sie eine gültige E-Mail-Adresse ein.
console-email-same = Das ist bereits Ihre Adresse.
console-email-limit = Es wurden zu viele Links gesendet. Bitte versuchen Sie es in einer Stunde erneut.
console-done-email-sent = Wir haben einen Link an Ihre neue Adresse gesendet. Öffnen Sie ihn, um die Änderung abzuschließen; bis dahin bleibt Ihre Adresse, wie sie ist.
console-email-confirm-title = Neue E-Mail-Adresse bestätigen
# `$email` wird fett gezeigt.
console-email-confirm-intro = Ab jetzt { $email } für die Anmeldung und E-Mails von MyPatientPortal verwenden?
console-email-confirm-submit = Diese Adresse verwenden
console-email-changed = Ihre E-Mail-Adresse wurde geändert. Melden Sie sich ab jetzt mit der neuen Adresse an.
    .title = E-Mail-Adresse geändert
console-email-taken = Ein anderes Konto verwendet diese Adresse bereits, daher wurde Ihre nicht geändert.
    .title = Adresse bereits vergeben
console-email-link-invalid = Dieser Link ist abgelaufen, wurde schon verwendet, oder Ihre Adresse hat sich seit dem Versand geändert. Fordern Sie auf Ihrer Kontoseite einen neuen an.
    .title = Dieser Link funktioniert nicht mehr

account-mail-emailchange-subject = Bestätigen Sie Ihre neue E-Mail-Adresse für MyPatientPortal
account-mail-emailchange-heading = Bestätigen Sie Ihre neue E-Mail-Adresse
account-mail-emailchange-body = Jemand möchte diese Adresse für ein Konto bei MyPatientPortal verwenden. Öffnen Sie zur Bestätigung den Link innerhalb von 24 Stunden:
account-mail-emailchange-link = Diese Adresse bestätigen
account-mail-emailchange-footer = Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Es ändert sich nichts.
account-mail-emailchanged-subject = Ihre E-Mail-Adresse bei MyPatientPortal wurde geändert
account-mail-emailchanged-heading = Ihre E-Mail-Adresse wurde geändert
account-mail-emailchanged-body = Ihr Konto bei MyPatientPortal verwendet jetzt eine andere E-Mail-Adresse, und E-Mails kommen nicht mehr hierher. Wenn Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück:
account-mail-emailchanged-link = Mein Passwort zurücksetzen
account-mail-emailchanged-footer = Wenn Sie das waren, müssen Sie nichts tun.
console-passkeys-count = Passkeys in Ihrem Konto: { $count }
console-passkeys-manage = Passkeys hinzufügen oder entfernen
