"""Streak reminders run on the worker's schedule, with no cron."""
from siyu_checkin import plugin


def test_reminders_run_every_five_minutes_the_shortest_lead_time(kernel):
    found = {}
    plugin.register_jobs(lambda name, func, **options: found.setdefault(name, (func, options)))
    remind, options = found["checkin.remind"]
    assert options["every_minutes"] == 5 and options["label"]  # reminder_minutes is at least 5
    assert remind(kernel) == {"due": 0, "sent": 0, "checked_in": 0, "closed": 0, "repeated": 0}
