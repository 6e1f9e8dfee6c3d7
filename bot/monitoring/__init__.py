"""What supervisors and groups see: views (summaries, areas not reported, reminders, history),
the summary data, charts, unit names, the export and its spreadsheet.
"""
