"""manifests/nginx/tipline.conf in front of two gunicorn instances (two
"machines"), with only its addresses, ports, certificate and paths changed:
sao comes from disk, RPC and the public pages reach both machines, the
headers and body limits hold, and the access log names no client."""
import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import stack

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'
pytestmark = pytest.mark.skipif(not os.path.exists(NGINX),
    reason='nginx is not installed (apt-get install nginx-light)')


def site_conf(site, state, https_port, http_port, upstreams):
    "The shipped file with this machine's values"
    with open(os.path.join(stack.ROOT, 'manifests', 'nginx',
                'tipline.conf')) as file:
        conf = file.read()
    servers = ''.join('    server 127.0.0.1:%d max_fails=2 fail_timeout=10s;\n'
        % port for port in upstreams)
    conf, count = re.subn(r'(?m)^    server 10\.0\.0\.\d+:8000 .*\n', '',
        conf)
    assert count == 2
    conf = conf.replace('upstream tipline_workers {\n',
        'upstream tipline_workers {\n' + servers)
    conf = re.sub(r'(?m)^    listen \[::\]:.*\n', '', conf)
    conf = conf.replace('listen 443 ssl', 'listen 127.0.0.1:%d ssl'
        % https_port)
    conf = conf.replace('listen 80;', 'listen 127.0.0.1:%d;' % http_port)
    conf = conf.replace('/etc/ssl/tipline/', state + '/')
    conf = conf.replace('/var/log/nginx/', state + '/')
    conf = conf.replace('/srv/tryton-sao/package',
        os.path.join(stack.ROOT, 'var', 'sao', 'package'))
    assert '10.0.0.' not in conf and '/srv/' not in conf
    return conf


@pytest.fixture
def nginx(site, procs):
    state = os.path.join(site.state, 'nginx')
    os.makedirs(state, exist_ok=True)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
            '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
            '-keyout', os.path.join(state, 'privkey.pem'),
            '-out', os.path.join(state, 'fullchain.pem')],
        check=True, capture_output=True)
    machines = [site.web_port + 4, site.web_port + 5]
    https, http = site.web_port + 6, site.web_port + 7
    with open(os.path.join(state, 'tipline.conf'), 'w') as file:
        file.write(site_conf(site, state, https, http, machines))
    main = os.path.join(state, 'nginx.conf')
    with open(main, 'w') as file:
        file.write('daemon off;\nuser root;\nworker_processes 1;\n'
            'pid %s/nginx.pid;\nerror_log %s/main-error.log;\n'
            'events {}\nhttp {\n  include /etc/nginx/mime.types;\n'
            '  client_body_temp_path %s;\n  proxy_temp_path %s;\n'
            '  access_log off;\n  include %s/tipline.conf;\n}\n'
            % (state, state, state, state, state))
    check = subprocess.run([NGINX, '-t', '-c', main], capture_output=True,
        text=True)
    assert check.returncode == 0, check.stderr
    # The workers behind nginx trust it as their one proxy.
    conf = stack.write_conf(os.path.join(state, 'trytond.conf'),
        site.pg_port, site.key_file, smtp_port=site.smtp_port,
        **{'web.num_proxies': '1'})
    for index, port in enumerate(machines):
        procs.gunicorn(conf, site.database, port, 1,
            name='gunicorn-machine%d' % index)
    for port in machines:
        stack.wait_for_login('http://127.0.0.1:%d' % port, site.database,
            'moderator', 'moderate-demo-1', procs)
    procs.start('nginx', [NGINX, '-c', main])
    time.sleep(1)
    procs.check_alive()
    return 'https://127.0.0.1:%d' % https, state, procs


def fetch(url, data=None, headers=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, context=context,
                timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_in_front_of_two_machines(site, nginx):
    url, state, procs = nginx
    # sao's files come from disk, not from a worker.
    status, headers, body = fetch(url + '/')
    assert status == 200 and b'tryton-sao' in body
    assert headers['Strict-Transport-Security']
    status, _, _ = fetch(url + '/dist/tryton-sao.js')
    assert status == 200

    # JSON-RPC through nginx, spread over both machines.
    https = ssl.create_default_context()
    https.check_hostname = False
    https.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=https))
    urllib.request.install_opener(opener)
    try:
        client = stack.Client(url, site.database)
        client.login('moderator', 'moderate-demo-1')
        for _ in range(12):
            reports = client.call('model.tipline.report.search_read', [],
                0, 5, None, ['tracking_number'], client.context)
            assert reports
        # A report filed through nginx links to its status page in https,
        # from the forwarded headers.
        reporter = stack.Client(url, site.database)
        reporter.login('reporter', 'report-demo-1')
        done = stack.file_report(reporter, 'Northwind Traders',
            'Filed through nginx: the delivery notes were signed by '
            'someone who left the company last year.', anonymous=True)
        assert done['status_url'] == '%s/%s/tipline/status' % (
            url, site.database)
    finally:
        urllib.request.install_opener(urllib.request.build_opener())
    for index in (0, 1):
        log = open(procs.log('gunicorn-machine%d' % index)).read()
        assert '"POST /%s/rpc/" 200' % site.database in log, index

    # The public status page keeps its own headers, once each, plus HSTS.
    status, headers, body = fetch(url + '/%s/tipline/status' % site.database)
    assert status == 200
    assert headers.get_all('Cache-Control') == ['no-store']
    assert headers.get_all('Referrer-Policy') == ['same-origin']
    assert len(headers.get_all('Content-Security-Policy')) == 1
    assert "frame-ancestors 'none'" in headers['Content-Security-Policy']
    assert headers['Strict-Transport-Security']

    # Body limits: 64 KiB on the public pages, 16 MiB on RPC.
    status, _, _ = fetch(url + '/%s/tipline/status' % site.database,
        data=b'number=' + b'x' * 70000,
        headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert status == 413
    status, _, _ = fetch(url + '/%s/rpc/' % site.database,
        data=b'{' + b' ' * (17 * 1024 * 1024) + b'}',
        headers={'Content-Type': 'application/json'})
    assert status == 413
    # A logged-in call of 3 MiB (evidence-sized) passes both nginx and
    # trytond's [request] max_size_authenticated.
    status, _, body = fetch(url + '/%s/rpc/' % site.database,
        data=b'{"id": 1, "method": "model.party.party.search_count", '
        b'"params": [[], 0, 1000, {}]' + b' ' * (3 * 1024 * 1024) + b'}',
        headers={'Content-Type': 'application/json',
            'Authorization': client.auth})
    assert status == 200 and b'"result"' in body, body[:300]

    # The access log has no client address.
    procs.stop('nginx')
    log = open(os.path.join(state, 'tipline.access.log')).read()
    assert '/tipline/status' in log and '127.0.0.1' not in log
