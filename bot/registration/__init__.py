"""Who may do what: callers and their rights, registration and assignment, FIELDTALLY_ADMINS,
phone numbers, the units file and its import.
"""
