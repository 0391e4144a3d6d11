# Dates and times (English): "Tuesday, 1 December 2026, 09:00 (CET)".

datetime-long = { $weekday }, { $day } { $month } { $year }, { $time } ({ $zone })

weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday

month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

# Local names of time-zone abbreviations; an abbreviation without an entry is shown as it is.
zone-CET = CET
zone-CEST = CEST
