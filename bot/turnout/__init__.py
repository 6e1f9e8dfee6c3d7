"""A report's way through the core: the grammar, natural phrasing, the rule engine, and
the intake that judges and stores reports with their running totals.
"""
