# Seiten des Autorisierungsservers und des Abmeldelinks der ASAP-E-Mails (Deutsch).
#
# Jede Sprache hat dieselben Dateien und dieselben Nachrichten-IDs. Die Texte sind reiner Text,
# die Seiten maskieren ihn. `.title`-Attribute sind Seitenüberschriften (und Fenstertitel).
# Anrede durchgehend mit „Sie“.

## Jede Seite

language-name = Deutsch
language-switch-label = Sprache

## Anmeldung

login-title = Anmelden
login-continue = um mit { $client } fortzufahren
login-email = E-Mail-Adresse
login-password = Passwort
login-submit = Anmelden
login-fine-print = Melden Sie sich nur an, wenn Sie { $client } vertrauen und die Anmeldung selbst über dessen Website oder App gestartet haben.
login-bad-credentials = Die E-Mail-Adresse oder das Passwort ist nicht korrekt.
login-too-many-attempts = Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten und versuchen Sie es dann erneut.
login-missing-credentials = Bitte geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein.
login-unverified = Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse: Öffnen Sie den Link, den wir Ihnen geschickt haben.

## Einwilligung

consent-title = Zugriff erlauben
consent-heading = Darf { $client } auf Ihr Konto zugreifen?
consent-intro = { $client } möchte:
consent-allow = Zugriff erlauben
consent-deny = Ablehnen
consent-fine-print = Erlauben Sie den Zugriff nur, wenn Sie { $client } vertrauen. Wenn Sie ablehnen, kehren Sie zur App zurück, ohne dass Daten weitergegeben werden.

## Abmelden

logout-confirm-title = Abmelden
logout-confirm-heading = Von MyPatientPortal abmelden?
logout-confirm-explanation = Eine App möchte Sie von MyPatientPortal abmelden. Melden Sie sich ab, wenn Sie das veranlasst haben; andernfalls können Sie dieses Fenster schließen und bleiben angemeldet.
logout-confirm-submit = Abmelden
signed-out = Sie wurden von MyPatientPortal abgemeldet. Sie können dieses Fenster jetzt schließen.
    .title = Sie sind abgemeldet
signed-out-no-return = Sie wurden von MyPatientPortal abgemeldet. Die App wollte Sie anschließend zurückleiten, diese Anfrage konnte jedoch nicht angenommen werden; deshalb bleiben Sie auf dieser Seite. Sie können dieses Fenster jetzt schließen. (Hinweis für die Entwickler der App: { $detail }.)
    .title = Sie sind abgemeldet

## Fehler

error-unknown-client = Die App, über die Sie hierher gekommen sind, ist bei MyPatientPortal nicht registriert. Deshalb können Sie sich bei ihr nicht anmelden. (Hinweis für die Entwickler der App: client_id fehlt oder ist unbekannt.)
    .title = Diese App ist nicht bekannt
error-bad-redirect-uri = Die App, über die Sie hierher gekommen sind, möchte Sie an eine Adresse zurückleiten, die sie nicht registriert hat. Zu Ihrer Sicherheit werden Sie nicht dorthin weitergeleitet. (Hinweis für die Entwickler der App: redirect_uri fehlt oder stimmt nicht genau mit einer registrierten Adresse überein.)
    .title = Dieser Anmeldelink ist ungültig
error-request-expired = Ihre Anmeldeanfrage ist abgelaufen oder nicht mehr gültig. Kehren Sie zur App zurück und beginnen Sie erneut.
    .title = Ihre Anmeldeanfrage ist abgelaufen
error-csrf = Aus Sicherheitsgründen konnte dieses Formular nicht angenommen werden. Kehren Sie zur App zurück und melden Sie sich erneut an. Wenn das wiederholt passiert, erlauben Sie bitte Cookies für diese Website.
    .title = Das Formular konnte nicht angenommen werden
error-missing-decision = Bitte wählen Sie „Zugriff erlauben“ oder „Ablehnen“. Gehen Sie zurück und versuchen Sie es erneut.
    .title = Es fehlt eine Angabe
error-unavailable = Der Dienst ist ausgelastet oder kurzzeitig nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.
    .title = Bitte versuchen Sie es gleich noch einmal
error-internal = Ihre Anfrage konnte nicht abgeschlossen werden. Bitte kehren Sie zur App zurück und versuchen Sie es später erneut.
    .title = Etwas ist schiefgelaufen
error-unreadable-form = Ihr Browser hat Daten gesendet, die diese Seite nicht annehmen kann. Gehen Sie zurück und versuchen Sie es erneut.
    .title = Das Formular konnte nicht gelesen werden

## Abmeldelink der ASAP-E-Mails

unsubscribe-title = Keine E-Mails mehr zu früheren Terminen
unsubscribe-heading = Keine E-Mails mehr zu früheren Terminen erhalten?
unsubscribe-explanation = Sie werden nicht mehr benachrichtigt, wenn vor Ihrem Termin „{ $type }“ ({ $when }) ein früherer Termin frei wird. Ihr Termin selbst bleibt bestehen.
unsubscribe-submit = E-Mails abbestellen
unsubscribe-done = Sie erhalten zu diesem Termin keine E-Mails über frühere freie Termine mehr. Ihr Termin selbst bleibt bestehen.
    .title = E-Mails abbestellt
unsubscribe-already = Die E-Mails, für die dieser Link verschickt wurde, sind bereits abbestellt, oder der Termin hat sich geändert. Sie müssen nichts weiter tun.
    .title = Bereits abbestellt
unsubscribe-invalid = Der Abmeldelink ist unvollständig, beschädigt oder abgelaufen. Kopieren Sie den vollständigen Link aus der E-Mail, oder bestellen Sie die E-Mails in der App ab, mit der Sie gebucht haben.
    .title = Dieser Link funktioniert nicht

## Der Bestätigungslink für Adressen von Mitteilungen über frühere Termine

confirm-title = E-Mail-Adresse bestätigen
confirm-heading = Mitteilungen über frühere Termine an { $email } senden?
confirm-explanation = Die App „{ $app }“ hat { $institution } gebeten, diese Adresse zu benachrichtigen, wenn für einen Termin „{ $type }“ am { $when } ein früherer Termin frei wird.
confirm-submit = Ja, an diese Adresse senden
confirm-not-me = Das war ich nicht
confirm-done = Ihre Adresse ist bestätigt. Sie erfahren hier, wenn ein früherer Termin frei wird.
    .title = Adresse bestätigt
confirm-already = Diese Adresse wurde bereits bestätigt, oder die Anfrage hat sich geändert oder ist beendet. Es ist nichts weiter zu tun.
    .title = Nichts zu bestätigen
confirm-not-me-done = Danke. Diese Adresse erhält 30 Tage lang keine Bestätigungsanfragen mehr, und es wird nichts an sie gesendet.
    .title = Anfrage abgelehnt
confirm-invalid = Der Bestätigungslink ist unvollständig, beschädigt oder abgelaufen. Kopieren Sie den ganzen Link aus der E-Mail.
    .title = Dieser Link funktioniert nicht

## Rückkehrseite der Anmeldung aus der API-Dokumentation (das „Authorize“-Fenster von /api-docs schließt sich selbst)

docs-redirect-returning = Zurück zur API-Dokumentation …
    .title = Anmeldung in der API-Dokumentation
docs-redirect-needs-script = Die Anmeldung in der API-Dokumentation braucht JavaScript. Schließen Sie dieses Fenster und verwenden Sie stattdessen eine App.

## Zweiter Faktor (Anmeldung) und Authenticator-App (Konto)

mfa-title = Bestätigen Sie, dass Sie es sind
mfa-explanation = Geben Sie den 6-stelligen Code ein, den Ihre Authenticator-App für MyPatientPortal anzeigt, oder einen Ihrer Wiederherstellungscodes.
mfa-code = Ihr Code
mfa-submit = Bestätigen
mfa-recovery-hint = Handy verloren? Jeder Wiederherstellungscode funktioniert einmal; die noch nicht benutzten stehen auf dem Papier oder in der Datei, die Sie aufbewahrt haben.
mfa-wrong-code = Dieser Code stimmt nicht. Prüfen Sie den Code in Ihrer Authenticator-App und versuchen Sie es erneut.
mfa-used-code = Dieser Code wurde schon verwendet. Warten Sie auf den nächsten Code in Ihrer Authenticator-App.
mfa-too-many-attempts = Zu viele falsche Codes. Bitte warten Sie 15 Minuten und versuchen Sie es dann erneut.
totp-enrol-title = Authenticator-App einrichten
totp-enrol-scan = Scannen Sie diesen QR-Code mit einer Authenticator-App (zum Beispiel Google Authenticator, Microsoft Authenticator, FreeOTP oder Ihrem Passwortmanager).
totp-enrol-qr-label = QR-Code für Ihre Authenticator-App
totp-enrol-manual = Scannen klappt nicht? Geben Sie stattdessen diesen Schlüssel in der App ein:
totp-enrol-uri = Einrichtungslink anzeigen
totp-enrol-code = Der 6-stellige Code, den die App jetzt anzeigt
totp-enrol-submit = Einschalten
totp-enrol-expired = Diese Einrichtungsseite ist abgelaufen. Unten steht ein neuer Schlüssel: Fügen Sie ihn erneut in Ihre App ein.
totp-already-enrolled = Für Ihr Konto ist bereits eine Authenticator-App eingerichtet.
recovery-codes-title = Ihre Wiederherstellungscodes
recovery-codes-done = Ihre Authenticator-App ist jetzt eingeschaltet: Zum Anmelden brauchen Sie Ihr Passwort und einen Code.
recovery-codes-explanation = Wenn Sie Ihr Handy verlieren, können Sie sich mit jedem dieser Codes einmal anmelden. Drucken Sie sie aus oder bewahren Sie sie sicher auf.
recovery-codes-once = Sie werden nur jetzt angezeigt.
recovery-codes-continue = Weiter
totp-active-title = Authenticator-App
# `$count` ist die Zahl der noch nicht benutzten Wiederherstellungscodes.
totp-active-status = Ihre Authenticator-App ist eingeschaltet. Übrige Wiederherstellungscodes: { $count }.
totp-remove-heading = Authenticator-App ausschalten
totp-remove-explanation = Geben Sie einen aktuellen Code aus der App ein oder, falls Sie sie verloren haben, Ihr Passwort und einen Wiederherstellungscode.
totp-remove-code = Aktueller Code aus der App
totp-remove-or = Oder, ohne die App:
totp-remove-recovery = Ein Wiederherstellungscode
totp-remove-submit = Ausschalten
totp-remove-refused = Der Code oder das Passwort und der Wiederherstellungscode stimmen nicht. Die Authenticator-App bleibt eingeschaltet.
totp-removed = Die Authenticator-App ist ausgeschaltet. Zum Anmelden brauchen Sie jetzt nur noch Ihr Passwort.
    .title = Authenticator-App ausgeschaltet
## Patientenkonten: Registrierung, Bestätigung, Passwort vergessen
login-forgot = Passwort vergessen?
login-register = Neu hier? Konto anlegen
account-register-title = Konto anlegen
account-register-intro = Sie erhalten eine E-Mail mit einem Link, um Ihre Adresse zu bestätigen. Bis dahin können Sie sich nicht anmelden.
account-register-fix = Bitte korrigieren Sie die unten markierten Felder.
account-register-submit = Konto anlegen
account-new-password = Neues Passwort
account-password-rules = Mindestens 10 Zeichen. Sehr häufige Passwörter werden nicht angenommen.
account-given-name = Vorname
account-family-name = Nachname
account-birthdate = Geburtsdatum
account-phone = Telefonnummer (freiwillig, internationales Format, z. B. +49 30 1234567)
account-error-email = Bitte geben Sie eine gültige E-Mail-Adresse ein.
account-error-password-length = Das Passwort muss mindestens 10 Zeichen lang sein.
account-error-password-common = Dieses Passwort ist zu häufig. Bitte wählen Sie ein weniger vorhersehbares.
account-error-given-name = Bitte geben Sie Ihren Vornamen ein.
account-error-family-name = Bitte geben Sie Ihren Nachnamen ein.
account-error-birthdate = Bitte geben Sie ein gültiges Geburtsdatum ein (JJJJ-MM-TT), nicht in der Zukunft.
account-error-phone = Bitte geben Sie die Telefonnummer im internationalen Format ein, z. B. +49 30 1234567, oder lassen Sie das Feld leer.
account-too-many = Zu viele Anfragen. Bitte warten Sie eine Stunde und versuchen Sie es dann erneut.
account-check-mail = Wir haben eine E-Mail an die angegebene Adresse geschickt. Öffnen Sie den Link darin, um fortzufahren. Falls sie nicht in wenigen Minuten ankommt, sehen Sie bitte im Spam-Ordner nach.
    .title = Bitte prüfen Sie Ihre E-Mails
account-resend-title = Bestätigungslink erneut senden
account-resend-intro = Geben Sie Ihre E-Mail-Adresse ein. Gehört sie zu einem noch nicht bestätigten Konto, senden wir einen neuen Bestätigungslink.
account-resend-submit = Bestätigungslink erneut senden
account-forgot-title = Passwort zurücksetzen
account-forgot-intro = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Gibt es ein Konto mit dieser Adresse, senden wir einen Link, mit dem Sie ein neues Passwort wählen. Der Link ist 30 Minuten gültig.
account-forgot-submit = Link zum Zurücksetzen senden
account-verify-title = E-Mail-Adresse bestätigen
# `$email` wird hervorgehoben.
account-verify-intro = Drücken Sie die Schaltfläche, um { $email } für Ihr Konto zu bestätigen.
account-verify-submit = Meine Adresse bestätigen
account-verified = Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden.
    .title = Adresse bestätigt
account-continue = Weiter zur Anmeldung
account-link-invalid = Dieser Link ist abgelaufen, wurde schon verwendet oder ist ungültig. Sie können einen neuen anfordern.
    .title = Dieser Link funktioniert nicht mehr
account-reset-title = Neues Passwort wählen
account-reset-sign-out-apps = Mich auch von allen Apps abmelden
account-reset-sessions = Wenn Sie Ihr Passwort ändern, werden Sie überall in diesem Portal abgemeldet. Verbundene Apps behalten ihren Zugriff, außer Sie setzen oben das Häkchen.
account-reset-submit = Neues Passwort speichern
account-claim-intro = Für Ihre Adresse gab es ein Konto, das nie bestätigt wurde; vielleicht hat es jemand anderes angelegt. Geben Sie Ihre eigenen Daten ein: Damit entsteht ein neues Konto für diese Adresse, und das unbestätigte wird entfernt.
account-claimed = Ihr Konto ist eingerichtet und Ihre Adresse bestätigt. Sie können sich jetzt anmelden.
    .title = Konto angelegt
account-password-changed = Ihr Passwort wurde geändert. Melden Sie sich mit dem neuen Passwort an.
    .title = Passwort geändert
passkey-sign-in-link = Mit einem Passkey anmelden
passkey-sign-in-title = Mit einem Passkey anmelden
passkey-sign-in-explanation = Ihr Browser oder Telefon bittet Sie, Ihren Passkey mit Fingerabdruck, Gesicht oder Bildschirmsperre zu entsperren. Sie brauchen weder Ihre E-Mail-Adresse noch Ihr Passwort.
passkey-sign-in-submit = Meinen Passkey verwenden
passkey-use-password = Stattdessen mit Passwort anmelden
passkey-needs-script = Passkeys brauchen JavaScript, das in diesem Browser ausgeschaltet ist. Sie können sich mit Ihrem Passwort anmelden.
passkey-browser-failed = Ihr Browser hat keinen Passkey verwendet: Der Vorgang wurde abgebrochen, hat zu lange gedauert, oder Passkeys sind hier nicht verfügbar. Versuchen Sie es noch einmal oder verwenden Sie Ihr Passwort.
passkey-refused = Dieser Passkey konnte nicht geprüft werden; vielleicht wurde er aus Ihrem Konto entfernt. Versuchen Sie es noch einmal oder melden Sie sich mit Ihrem Passwort an.
passkey-expired = Diese Passkey-Anfrage ist abgelaufen. Bitte versuchen Sie es noch einmal.
passkey-counter = Dieser Passkey hat einen niedrigeren Nutzungszähler gemeldet als zuvor, was auf eine Kopie hindeuten kann, und wurde deshalb nicht angenommen. Melden Sie sich mit Ihrem Passwort an und prüfen Sie Ihre Passkeys auf Ihrer Kontoseite.
passkey-remove-refused = Das Passwort stimmt nicht. Der Passkey wurde nicht entfernt.
passkey-duplicate = Dieser Passkey ist bereits in Ihrem Konto.
passkey-step-up-link = Stattdessen einen Passkey verwenden
passkeys-title = Passkeys verwalten
passkeys-explanation = Mit einem Passkey melden Sie sich per Fingerabdruck, Gesicht oder Bildschirmsperre an statt mit Ihrem Passwort. Er zählt als zwei Faktoren.
passkeys-added = Der Passkey „{ $name }“ wurde hinzugefügt. Wir haben Ihnen dazu eine E-Mail geschickt.
passkeys-removed = Der Passkey wurde entfernt.
passkeys-list-heading = Ihre gespeicherten Passkeys
passkeys-none = Sie haben noch keine Passkeys.
passkeys-created = Hinzugefügt: { $when }
passkeys-last-used = Zuletzt verwendet: { $when }
passkeys-never = nie
passkeys-synced = Auf Ihren Geräten synchronisiert
passkeys-device-bound = Nur auf einem Gerät gespeichert
passkeys-remove-password = Ihr Passwort, um „{ $name }“ zu entfernen
passkeys-remove-submit = „{ $name }“ entfernen
passkeys-add-heading = Passkey hinzufügen
passkeys-name = Ein Name für den neuen Passkey, zum Beispiel „Mein Telefon“
passkeys-add-submit = Passkey hinzufügen
passkeys-back = Zurück zu Ihrem Konto
error-passkeys-off = Passkeys sind in diesem Portal nicht verfügbar. Bitte melden Sie sich mit Ihrem Passwort an.
    .title = Passkeys sind nicht verfügbar
error-missing-passkey-action = Wählen Sie, ob Sie einen Passkey hinzufügen oder entfernen möchten. Gehen Sie zurück und versuchen Sie es noch einmal.
    .title = Es fehlt eine Angabe
