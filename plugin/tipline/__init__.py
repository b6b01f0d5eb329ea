# Tipline: abuse reporting for Tryton. Classes are registered from the
# [register] sections of tryton.cfg.
