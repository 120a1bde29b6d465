"""SQL lives here and nowhere else: plain functions over a ``Conn``, one module per
group of tables (bookings, clients, catalog and staff, schedule, outbox, audit, app state).

They run inside the transaction the caller opened (Database.write / Database.read), never open
or commit one themselves, and return records from ``domain``.
"""
