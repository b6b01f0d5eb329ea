from trytond.tests.test_tryton import load_doc_tests
from trytond.modules.tipline.tests.tools import (
    use_throwaway_master_key)

use_throwaway_master_key()


def load_tests(*args, **kwargs):
    return load_doc_tests(__name__, __file__, *args, **kwargs)
