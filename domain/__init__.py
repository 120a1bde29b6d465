"""The records, enums and rules every layer speaks.

Nothing here does I/O or imports another package of ours except ``utils``: handlers render these
values, services decide with them, the database reads and writes them.
"""
