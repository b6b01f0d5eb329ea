"Helpers shared by the module's tests"
import os

from trytond.modules.tipline.keys import KEY_ENV


def use_throwaway_master_key():
    """The module refuses to start without its master key.  Test runs that
    were not given one (TIPLINE_MASTER_KEY or [tipline] key_file) use a
    throwaway key, kept beside DB_CACHE so that cached databases still
    open."""
    if os.environ.get(KEY_ENV):
        return
    cache = os.environ.get('DB_CACHE')
    path = os.path.join(cache, 'tipline.key') if cache else None
    if path and os.path.exists(path):
        with open(path) as file:
            os.environ[KEY_ENV] = file.read().strip()
        return
    os.environ[KEY_ENV] = os.urandom(32).hex()
    if path:
        os.makedirs(cache, exist_ok=True)
        with open(path, 'w') as file:
            file.write(os.environ[KEY_ENV])
