"""The admin chat, by feature: agenda.py (agenda and bookings), catalog.py (services),
staff.py (specialists, hours, days off), reports.py (clients, statistics, export); router.py
holds the one command table and the role check; views.py and notices.py the screens."""
