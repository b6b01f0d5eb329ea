import os

# The module refuses to start without its master key. Test runs that were
# not given one (TIPLINE_MASTER_KEY or [tipline] key_file) use a throwaway
# key, kept beside DB_CACHE so that cached databases still open.
if not os.environ.get('TIPLINE_MASTER_KEY'):
    _key_path = os.path.join(os.environ.get('DB_CACHE') or '', 'tipline.key')
    if os.environ.get('DB_CACHE') and os.path.exists(_key_path):
        with open(_key_path) as _file:
            os.environ['TIPLINE_MASTER_KEY'] = _file.read().strip()
    else:
        os.environ['TIPLINE_MASTER_KEY'] = os.urandom(32).hex()
        if os.environ.get('DB_CACHE'):
            os.makedirs(os.environ['DB_CACHE'], exist_ok=True)
            with open(_key_path, 'w') as _file:
                _file.write(os.environ['TIPLINE_MASTER_KEY'])

from trytond.tests.test_tryton import load_doc_tests


def load_tests(*args, **kwargs):
    return load_doc_tests(__name__, __file__, *args, **kwargs)
