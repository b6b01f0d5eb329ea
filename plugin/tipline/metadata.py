"""What a file says about who made it, and a copy that says nothing.

A photo's EXIF carries where it was taken and with which phone; a document
names its author and the software that wrote it.  Either can unmask a
reporter, so moderators only ever see a copy cleaned by mat2 (the metadata
anonymisation toolkit, Debian package ``mat2``), and the original is kept
encrypted for the identity custodians.

mat2 runs as a program on a copy of the file in a private temporary folder
(in memory, under /dev/shm, where the system has it), which is removed as
soon as mat2 has finished.  A file is accepted only when its content is one
of the types below and matches its name's extension: a name cannot make
mat2 treat a file as something it is not.
"""
import os
import re
import shutil
import subprocess
import tempfile

from trytond.i18n import gettext

from .exceptions import EvidenceError

MAT2_TIMEOUT = 120  # seconds; a PDF is re-rendered page by page

# content type: (extensions, test of the first bytes)
_ZIP = b'PK\x03\x04'
TYPES = {
    'image/jpeg': (('.jpg', '.jpeg'), lambda d: d[:3] == b'\xff\xd8\xff'),
    'image/png': (('.png',), lambda d: d[:8] == b'\x89PNG\r\n\x1a\n'),
    'image/gif': (('.gif',), lambda d: d[:6] in (b'GIF87a', b'GIF89a')),
    'application/pdf': (('.pdf',), lambda d: d[:5] == b'%PDF-'),
    'text/plain': (('.txt',), lambda d: _is_text(d)),
    'application/vnd.oasis.opendocument.text': (
        ('.odt',), lambda d: d[:4] == _ZIP),
    'application/vnd.oasis.opendocument.spreadsheet': (
        ('.ods',), lambda d: d[:4] == _ZIP),
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
        (('.docx',), lambda d: d[:4] == _ZIP),
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': (
        ('.xlsx',), lambda d: d[:4] == _ZIP),
    }

# Characters that reorder what follows them: a file named
# "invoice\u202Efdp.exe" shows as "invoiceexe.pdf".
BIDI_CONTROLS = re.compile(
    '[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]')


def _is_text(data):
    if b'\x00' in data:
        return False
    try:
        data.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


def safe_name(name):
    "name with its bidirectional controls shown as U+FFFD, never obeyed"
    return BIDI_CONTROLS.sub('\ufffd', name) if name else name


def extension(name):
    return os.path.splitext((name or '').strip().lower())[1]


def sniff(name, data):
    """The content type of data, which its name's extension must announce;
    raises EvidenceError otherwise"""
    ext = extension(name)
    for content_type, (extensions, test) in TYPES.items():
        if ext in extensions:
            if not test(bytes(data[:4096]) if content_type != 'text/plain'
                    else bytes(data)):
                raise EvidenceError(gettext(
                        'tipline.msg_evidence_type_mismatch',
                        name=safe_name(name)))
            return content_type
    raise EvidenceError(gettext('tipline.msg_evidence_type_refused',
            name=safe_name(name),
            types=', '.join(sorted(e for x, _ in TYPES.values() for e in x))))


def _mat2():
    path = shutil.which('mat2')
    if not path:
        raise EvidenceError(gettext('tipline.msg_evidence_no_cleaner'))
    return path


def _workspace():
    "A private folder for the file, in memory where the system allows"
    base = '/dev/shm' if os.access('/dev/shm', os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix='tipline-', dir=base)


def _run(arguments, folder):
    try:
        return subprocess.run(arguments, cwd=folder, capture_output=True,
            timeout=MAT2_TIMEOUT, check=False,
            env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
                'HOME': folder, 'LANG': 'C.UTF-8'})
    except subprocess.TimeoutExpired:
        raise EvidenceError(gettext('tipline.msg_evidence_clean_failed'))


def inspect(name, data):
    """The metadata mat2 finds in the file, as (key, value) pairs, for the
    reporter to read before sending it"""
    sniff(name, data)
    with _workspace() as folder:
        path = os.path.join(folder, 'evidence' + extension(name))
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), 'wb') as f:
            f.write(data)
        result = _run([_mat2(), '--show', path], folder)
    if result.returncode != 0:
        raise EvidenceError(gettext('tipline.msg_evidence_clean_failed'))
    found = []
    for line in result.stdout.decode('utf-8', 'replace').splitlines():
        if line.startswith('    ') and ':' in line:
            key, _, value = line.strip().partition(':')
            found.append((key.strip(), value.strip()))
    return found


def clean(name, data):
    "A copy of data without its metadata, made by mat2"
    sniff(name, data)
    with _workspace() as folder:
        stem = os.path.join(folder, 'evidence')
        path = stem + extension(name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), 'wb') as f:
            f.write(data)
        result = _run([_mat2(), path], folder)
        cleaned = stem + '.cleaned' + extension(name)
        if result.returncode != 0 or not os.path.exists(cleaned):
            raise EvidenceError(gettext('tipline.msg_evidence_clean_failed'))
        with open(cleaned, 'rb') as file:
            return file.read()
