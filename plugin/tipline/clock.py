"""The one clock Tipline reads.

Deadlines, escalations, appeal windows and review periods all ask now() for
the time, so tests can move time forward with travel() and a scenario can
run a week of moderation in a second.  The offset is per process and only
tests set it; in production now() is the system's UTC time."""
import contextlib
import datetime as dt

from trytond.i18n import gettext

_offset = dt.timedelta(0)


def now():
    """The current time as Tryton stores it: naive UTC.  Inside an anonymous
    reporter's authorless scope, the coarsened filing time instead, so that
    nothing stored then can be matched with the filer's activity."""
    from .authorless import frozen_now
    return frozen_now() or real_now()


def real_now():
    "The current time, also inside an anonymous authorless scope"
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + _offset


def travel(delta=None, **kwargs):
    """Move the clock forward by delta (a timedelta) or by the keyword
    arguments of timedelta; return the new offset"""
    global _offset
    _offset += delta if delta is not None else dt.timedelta(**kwargs)
    return _offset


def reset():
    "Back to the system's time"
    global _offset
    _offset = dt.timedelta(0)


@contextlib.contextmanager
def travelled(delta=None, **kwargs):
    "Within the block the clock runs ahead by delta"
    global _offset
    saved = _offset
    travel(delta, **kwargs)
    try:
        yield
    finally:
        _offset = saved


def week_start(day):
    "The Monday of day's week: the only date kept with feedback"
    return day - dt.timedelta(days=day.weekday())


def format_duration(delta):
    "A short human reading of a timedelta such as '2 d 5 h' or '40 min'"
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext('tipline.msg_duration_days_hours',
            days=days, hours=hours)
    if hours:
        return gettext('tipline.msg_duration_hours_minutes',
            hours=hours, minutes=minutes)
    return gettext('tipline.msg_duration_minutes', minutes=minutes)
