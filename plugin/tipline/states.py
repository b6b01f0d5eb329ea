"""The report's workflow states and the moderators' assessment scales, which
report.py and the concepts that make up tipline.report share."""

OPEN_STATES = ['submitted', 'acknowledged', 'triaged', 'investigating',
    'awaiting_reporter']
CLOSED_STATES = ['resolved', 'closed']
TRUTHFULNESS = [
    (None, ""),
    ('confirmed', "Confirmed"),
    ('partly_confirmed', "Partly confirmed"),
    ('unconfirmed', "Could not be confirmed"),
    ('false', "Found false"),
    ]
SEVERITIES = [
    (None, ""),
    ('low', "Low"),
    ('medium', "Medium"),
    ('high', "High"),
    ('critical', "Critical"),
    ]
