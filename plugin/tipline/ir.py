from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# Models whose record rules compare rows with the current reporter.
USER_RULE_MODELS = {
    'tipline.report', 'tipline.evidence', 'tipline.audit_event',
    'tipline.case'}


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in USER_RULE_MODELS:
            pool = Pool()
            Keyset = pool.get('tipline.keyset')
            token = Keyset.reporter_token(Transaction().user)
            context['tipline_reporter_token'] = token
            context['tipline_subject_pattern'] = '%' + token + '%'

        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if model_names & USER_RULE_MODELS:
            key = (*key, Transaction().user)
        return key
