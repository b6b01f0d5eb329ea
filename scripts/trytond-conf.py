#!/usr/bin/env python3
"""trytond-conf.py OUT BASE [SECTION.OPTION=VALUE ...]: write the trytond
configuration BASE with the given options set, as one file OUT.

trytond reads a single file from TRYTOND_CONFIG (which gunicorn's workers
need), and a file's option beats the TRYTOND_SECTION__OPTION environment, so
the machine's own values (database server, paths, ports) are merged into a
copy of a shipped manifest instead of layered over it."""
import configparser
import sys


def main(out, base, *settings):
    parser = configparser.ConfigParser(interpolation=None)
    with open(base) as file:
        parser.read_file(file)
    for setting in settings:
        key, _, value = setting.partition('=')
        section, _, option = key.partition('.')
        if not option:
            sys.exit('trytond-conf: expected SECTION.OPTION=VALUE, got %r'
                % setting)
        if not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, option, value)
    with open(out, 'w') as file:
        file.write('# Written by scripts/trytond-conf.py from %s\n' % base)
        parser.write(file)


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
