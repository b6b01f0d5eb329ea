"""Read-only means read-only over RPC too.

Tryton does not enforce a field's ``readonly`` on ``write`` calls made over
RPC: the attribute only shapes the client's forms.  A report's tracking
number, reporter token, receipt hash, state or filing time written by a
moderator would break every promise Tipline makes, so every Tipline model
refuses, from any caller and any group, an RPC write of a field that is
read-only, statically or by its ``states`` for that record.  The system's
own writes (filing, the workflow's buttons, cron jobs) run without access
checks and are not concerned: state changes go through the buttons only.
"""
from trytond.i18n import gettext
from trytond.model.modelstorage import AccessError, _record_eval_pyson


class ServerReadonly:
    "Refuse RPC writes of read-only fields (mixed into every Tipline model)"
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode != 'write' or not external or not values:
            return
        for name in values:
            field = cls._fields.get(name)
            if field is None:
                continue  # the ORM refuses unknown fields itself
            readonly = field.readonly
            states = field.states.get('readonly') if field.states else None
            if not readonly and states is not None:
                readonly = any(
                    _record_eval_pyson(record, states) for record in records)
            if readonly:
                raise AccessError(gettext('tipline.msg_field_system',
                        field=field.string, model=cls.__names__()['model']))
