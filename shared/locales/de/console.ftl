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
