# Datum und Uhrzeit (Deutsch): „Dienstag, 1. Dezember 2026, 09:00 Uhr (MEZ)“.

datetime-long = { $weekday }, { $day }. { $month } { $year }, { $time } Uhr ({ $zone })

weekday-1 = Montag
weekday-2 = Dienstag
weekday-3 = Mittwoch
weekday-4 = Donnerstag
weekday-5 = Freitag
weekday-6 = Samstag
weekday-7 = Sonntag

month-1 = Januar
month-2 = Februar
month-3 = März
month-4 = April
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = August
month-9 = September
month-10 = Oktober
month-11 = November
month-12 = Dezember

# Deutsche Namen der Zeitzonen-Abkürzungen; andere Abkürzungen bleiben, wie sie sind.
zone-CET = MEZ
zone-CEST = MESZ
