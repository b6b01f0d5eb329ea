"""The moderator paths moderator_bench.py measures, each with its bare
Tryton baseline on the same server.

Each path is (label, prepare, call): prepare(client, state) runs once
untimed, call(client, state, i) is timed; state is shared by a path and its
baseline, so that the baseline reads as many rows and columns as the path.
"""
from trytond.pyson import PYSONDecoder

QUEUE = ('tipline.report', 'Reports')
PAGE = 1000          # the clients' default page (sao and tryton: 1000 rows)
# party.party's columns for the baselines, in the same mix as the list
# view's: stored columns, many2ones with their rec_name, a few Function
# fields, and the client's meta fields; as many as the path reads.
PARTY_COLUMNS = ['name', 'code', 'active', 'lang', 'lang.rec_name',
    'replaced_by', 'replaced_by.rec_name', 'create_date', 'write_date',
    'create_uid', 'create_uid.rec_name', 'write_uid', 'write_uid.rec_name',
    'rec_name', 'full_name', 'code_readonly', 'tax_identifier',
    'tax_identifier.rec_name', 'email', 'phone', 'website', 'mobile', 'fax',
    'distance', 'identifiers', 'addresses', 'contact_mechanisms',
    'categories']
META = ['_timestamp', '_write', '_delete']


def action(client):
    "The moderator queue action as the client reads it"
    found = client.call('model.ir.action.act_window.search_read',
        [('res_model', '=', QUEUE[0]), ('name', '=', QUEUE[1])], 0, 1, None,
        ['domains', 'pyson_order', 'pyson_context', 'views'], {})
    queue, = found
    decoder = PYSONDecoder({'_user': client.user_id})
    order = decoder.decode(queue['pyson_order']) or None
    tabs = [(name, decoder.decode(domain) if domain else [], count)
        for name, domain, count in queue['domains']]
    views = dict((kind, view_id) for view_id, kind in queue['views'])
    return order, tabs, views


def view_fields(client, model, view_id, kind):
    "The fields a client reads for the view: m2o with their rec_name"
    view = client.call('model.%s.fields_view_get' % model, view_id, kind,
        {})
    names = []
    for name, field in view['fields'].items():
        names.append(name)
        if field['type'] in ('many2one', 'reference'):
            names.append(name + '.rec_name')
    return sorted(names) + META


def party_columns(client, count):
    "count readable party.party columns, the baseline's"
    fields = client.call('model.party.party.fields_get', None, {})
    names = [c for c in PARTY_COLUMNS if c.split('.')[0] in fields]
    return names[:count - len(META)] + META


def queue_paths(client):
    """[(label, path call, baseline call)] of the queue's first pages and
    its tab counts"""
    order, tabs, views = action(client)
    columns = view_fields(client, QUEUE[0], views.get('tree'), 'tree')
    party = party_columns(client, len(columns))
    paths = []
    for name, domain, count in [("default order", [], False)] + tabs:
        def page(domain=domain):
            return client.call('model.tipline.report.search_read', domain,
                0, PAGE, order, columns, {})

        def bare(rows):
            return client.call('model.party.party.search_read', [], 0,
                rows, None, party, {})
        paths.append(('queue page: %s' % name, page, bare))
        if count:
            paths.append(('tab count: %s' % name,
                    lambda domain=domain: client.call(
                        'model.tipline.report.search_count', domain, 0,
                        None, {}),
                    lambda rows: client.call(
                        'model.party.party.search_count', [], 0, None, {})))
    return paths, columns, party


def form_fields(client, model):
    "The fields a client reads to open a record of model"
    return view_fields(client, model, None, 'form')
