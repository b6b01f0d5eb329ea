"""Field encryption, blind index, receipts and master keys from Python."""

import os
import stat
import threading
import time

import pytest

import tipline_core
from tipline_core import (
    BlindIndexer,
    DecryptionError,
    FieldCipher,
    InvalidInput,
    Keyset,
    KeysetError,
    MasterKeyError,
)

AAD = b"tipline.report|description|42"


@pytest.fixture
def keyset():
    return Keyset.generate()


@pytest.fixture
def cipher(keyset):
    return FieldCipher(keyset)


# --- FieldCipher -------------------------------------------------------------


def test_round_trip_and_format(cipher):
    for plaintext in (b"", b"x", b"hello world", bytes(range(256)) * 64):
        ciphertext = cipher.encrypt(plaintext, AAD)
        assert len(ciphertext) == len(plaintext) + 33
        assert ciphertext[0] == 0x01
        assert ciphertext[1:5] == (1).to_bytes(4, "big")
        assert cipher.decrypt(ciphertext, AAD) == plaintext


def test_encryption_is_randomised(cipher):
    assert cipher.encrypt(b"same", AAD) != cipher.encrypt(b"same", AAD)


def test_tamper_loop(cipher):
    plaintext = b"short message"
    ciphertext = cipher.encrypt(plaintext, AAD)
    for bit in range(len(ciphertext) * 8):
        tampered = bytearray(ciphertext)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            cipher.decrypt(bytes(tampered), AAD)
    for bit in range(len(AAD) * 8):
        aad = bytearray(AAD)
        aad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            cipher.decrypt(ciphertext, bytes(aad))
    for length in range(len(ciphertext)):
        with pytest.raises(DecryptionError):
            cipher.decrypt(ciphertext[:length], AAD)
    assert cipher.decrypt(ciphertext, AAD) == plaintext


def test_decryption_error_is_opaque(cipher):
    ciphertext = cipher.encrypt(b"secret plaintext", AAD)
    messages = set()
    for bad in (ciphertext[:-1], b"\x02" + ciphertext[1:], b""):
        with pytest.raises(DecryptionError) as caught:
            cipher.decrypt(bad, AAD)
        messages.add(caught.value.message)
    with pytest.raises(DecryptionError) as caught:
        cipher.decrypt(ciphertext, b"other|row|1")
    messages.add(caught.value.message)
    assert messages == {"decryption failed"}
    assert caught.value.code == "decryption_failed"


def test_associated_data_is_required(cipher):
    with pytest.raises(InvalidInput):
        cipher.encrypt(b"x", b"")
    with pytest.raises(DecryptionError):
        cipher.decrypt(cipher.encrypt(b"x", AAD), b"")


def test_bytes_only(cipher):
    with pytest.raises(TypeError):
        cipher.encrypt("text", AAD)
    with pytest.raises(TypeError):
        cipher.encrypt(bytearray(b"x"), AAD)
    with pytest.raises(TypeError):
        cipher.decrypt(memoryview(b"x" * 40), AAD)
    with pytest.raises(TypeError):
        FieldCipher(object())


# --- Keyset life cycle ---------------------------------------------------------


def test_generate(keyset):
    assert keyset.key_ids == [1]
    assert keyset.primary_id == 1
    assert keyset.key_status(1) == "enabled"
    assert "keys=[1]" in repr(keyset)


def test_rotation_disable_destroy_lifecycle(keyset, cipher):
    old = cipher.encrypt(b"old", AAD)
    assert keyset.rotate() == 2
    assert keyset.primary_id == 2 and keyset.key_ids == [1, 2]
    new = cipher.encrypt(b"new", AAD)
    assert new[1:5] == (2).to_bytes(4, "big")
    assert cipher.decrypt(old, AAD) == b"old"

    with pytest.raises(KeysetError):
        keyset.disable(2)  # the primary
    with pytest.raises(KeysetError):
        keyset.destroy(1)  # still enabled
    keyset.disable(1)
    assert keyset.key_status(1) == "disabled"
    with pytest.raises(DecryptionError):
        cipher.decrypt(old, AAD)
    with pytest.raises(KeysetError):
        keyset.set_primary(1)
    keyset.enable(1)
    assert cipher.decrypt(old, AAD) == b"old"

    keyset.disable(1)
    keyset.destroy(1)
    assert keyset.key_ids == [2]
    with pytest.raises(DecryptionError):
        cipher.decrypt(old, AAD)
    assert cipher.decrypt(new, AAD) == b"new"
    with pytest.raises(KeysetError) as caught:
        keyset.destroy(1)
    assert caught.value.code == "not_found"
    assert isinstance(caught.value, KeyError)
    assert keyset.add_key() == 3  # ids are never reused


def test_keyset_errors_name_the_fix(keyset):
    with pytest.raises(KeysetError) as caught:
        keyset.disable(1)
    assert "rotate" in str(caught.value)
    assert caught.value.code == "failed_precondition"


def test_wrapped_round_trip(keyset, cipher):
    master = tipline_core.new_master_key()
    c1 = cipher.encrypt(b"one", AAD)
    keyset.rotate()
    keyset.disable(1)
    wrapped = keyset.to_bytes(master)
    assert wrapped[:5] == b"TLKS\x01"
    restored = Keyset.from_bytes(wrapped, master)
    assert restored.key_ids == [1, 2]
    assert restored.primary_id == 2
    assert restored.key_status(1) == "disabled"
    restored.enable(1)
    assert FieldCipher(restored).decrypt(c1, AAD) == b"one"
    # The original is independent of the restored copy.
    with pytest.raises(DecryptionError):
        cipher.decrypt(c1, AAD)


def test_from_bytes_with_wrong_master_key(keyset):
    wrapped = keyset.to_bytes(tipline_core.new_master_key())
    with pytest.raises(DecryptionError):
        Keyset.from_bytes(wrapped, tipline_core.new_master_key())
    with pytest.raises(InvalidInput):
        Keyset.from_bytes(wrapped, b"short")
    with pytest.raises(DecryptionError):
        Keyset.from_bytes(b"garbage", bytes(32))


def test_keyset_is_not_picklable(keyset):
    import pickle

    with pytest.raises(Exception):
        pickle.dumps(keyset)


# --- Threads ---------------------------------------------------------------------


def test_threads_share_a_cipher_while_rotating(keyset, cipher):
    errors = []

    def work(index):
        aad = AAD + str(index).encode()
        try:
            for i in range(3000):
                plaintext = os.urandom(i % 200)
                assert cipher.decrypt(cipher.encrypt(plaintext, aad), aad) == plaintext
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(10):
        keyset.rotate()
    for thread in threads:
        thread.join()
    assert not errors
    assert keyset.primary_id == 11


def test_gil_is_released_during_scrypt():
    # While one thread hashes (~tens of ms in C++), Python code keeps running.
    ticks = 0
    done = threading.Event()

    def hash_some():
        for _ in range(3):
            tipline_core.hash_receipt("1234-5678-9012-3456")
        done.set()

    thread = threading.Thread(target=hash_some)
    thread.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0)
    thread.join()
    assert ticks > 100


# --- Blind index -------------------------------------------------------------------


def test_blind_index():
    master = bytes(range(32))
    index = tipline_core.blind_index(master, b"alice@example.org")
    assert len(index) == 32
    assert index == tipline_core.blind_index(master, b"alice@example.org")
    assert index == BlindIndexer(master).index(b"alice@example.org")
    assert index == tipline_core.blind_index(
        master, b"alice@example.org", purpose="reporter"
    )
    assert index != tipline_core.blind_index(
        master, b"alice@example.org", purpose=b"subject"
    )
    assert index != tipline_core.blind_index(bytes(32), b"alice@example.org")
    with pytest.raises(InvalidInput):
        tipline_core.blind_index(master, b"x", purpose=b"")
    with pytest.raises(InvalidInput):
        BlindIndexer(b"short")


# --- Receipts ----------------------------------------------------------------------


def test_receipts():
    receipt = tipline_core.new_receipt()
    groups = receipt.split("-")
    assert len(groups) == 4 and all(len(g) == 4 and g.isdigit() for g in groups)
    assert tipline_core.new_receipt() != receipt
    stored = tipline_core.hash_receipt(receipt)
    assert isinstance(stored, bytes) and len(stored) == 52 and stored[0] == 1
    assert tipline_core.verify_receipt(receipt, stored)
    assert tipline_core.verify_receipt(" " + receipt.replace("-", " "), stored)
    assert tipline_core.verify_receipt(receipt.replace("-", ""), stored)
    other = receipt[:-1] + ("0" if receipt[-1] != "0" else "1")
    assert not tipline_core.verify_receipt(other, stored)
    assert not tipline_core.verify_receipt("not a receipt", stored)
    assert not tipline_core.verify_receipt("\ud800", stored)
    assert tipline_core.hash_receipt(receipt) != stored  # per-record salt


def test_receipt_errors():
    with pytest.raises(InvalidInput):
        tipline_core.hash_receipt("1234")
    with pytest.raises(InvalidInput):
        tipline_core.verify_receipt("1234-5678-9012-3456", b"\x01" + bytes(10))
    stored = bytearray(tipline_core.hash_receipt("1234-5678-9012-3456"))
    stored[1] = 40  # N = 2^40: refused, not attempted
    with pytest.raises(InvalidInput):
        tipline_core.verify_receipt("1234-5678-9012-3456", bytes(stored))


# --- Master keys -------------------------------------------------------------------


def test_parse_master_key():
    key = bytes(range(32))
    assert tipline_core.parse_master_key(key.hex()) == key
    assert tipline_core.parse_master_key(key.hex().upper() + "\n") == key
    import base64

    assert tipline_core.parse_master_key(base64.b64encode(key).decode()) == key
    assert (
        tipline_core.parse_master_key(
            base64.urlsafe_b64encode(key).decode().rstrip("=")
        )
        == key
    )
    with pytest.raises(MasterKeyError) as caught:
        tipline_core.parse_master_key("nope")
    assert "nope" not in str(caught.value)
    assert isinstance(caught.value, InvalidInput)


def test_master_key_from_env(monkeypatch):
    key = os.urandom(32)
    monkeypatch.setenv("TIPLINE_TEST_MASTER", key.hex())
    assert tipline_core.master_key_from_env("TIPLINE_TEST_MASTER") == key
    monkeypatch.delenv("TIPLINE_TEST_MASTER")
    with pytest.raises(MasterKeyError):
        tipline_core.master_key_from_env("TIPLINE_TEST_MASTER")


def test_master_key_files(tmp_path):
    path = tmp_path / "master.key"
    tipline_core.create_master_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert len(text) == 65 and text.endswith("\n")
    key = tipline_core.load_master_key_file(path)
    assert key == bytes.fromhex(text.strip())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]

    with pytest.raises(MasterKeyError) as caught:
        tipline_core.create_master_key_file(path)
    assert caught.value.code == "failed_precondition"
    assert tipline_core.load_master_key_file(str(path)) == key

    path.chmod(0o644)
    with pytest.raises(MasterKeyError) as caught:
        tipline_core.load_master_key_file(path)
    assert "chmod 600" in str(caught.value)
    assert text.strip() not in str(caught.value)

    with pytest.raises(MasterKeyError) as caught:
        tipline_core.load_master_key_file(tmp_path / "missing.key")
    assert caught.value.code == "not_found"

    given = tmp_path / "given.key"
    tipline_core.create_master_key_file(given, bytes(range(32)))
    assert tipline_core.load_master_key_file(given) == bytes(range(32))


def test_keyset_under_a_key_file(tmp_path):
    path = tmp_path / "k"
    tipline_core.create_master_key_file(path)
    master = tipline_core.load_master_key_file(path)
    keyset = Keyset.generate()
    restored = Keyset.from_bytes(keyset.to_bytes(master), master)
    ciphertext = FieldCipher(keyset).encrypt(b"x", AAD)
    assert FieldCipher(restored).decrypt(ciphertext, AAD) == b"x"


def test_ciphertext_prefix_names_the_key(cipher):
    "The header is parsed natively: the prefix of a ciphertext names its key"
    ciphertext = cipher.encrypt(b"x", b"tipline\x00m\x00f\x001")
    key_id = cipher.keyset.primary_id
    prefix = tipline_core.ciphertext_prefix(key_id)
    assert len(prefix) == tipline_core.CIPHERTEXT_PREFIX_SIZE
    assert ciphertext.startswith(prefix)
    assert tipline_core.ciphertext_key_id(ciphertext) == key_id
    assert tipline_core.ciphertext_key_id(prefix) == key_id
    assert len(ciphertext) == 1 + tipline_core.CIPHERTEXT_OVERHEAD
    assert tipline_core.ciphertext_prefix(2**32 - 1) == b"\x01\xff\xff\xff\xff"


@pytest.mark.parametrize("data", [b"", b"\x01\x00\x00\x00", b"\x02\x00\x00\x00\x01", b"plain text"])
def test_ciphertext_key_id_refuses_what_is_not_a_ciphertext(data):
    assert tipline_core.ciphertext_key_id(data) is None


def test_data_key_round_trip_through_its_wrapped_form(cipher):
    key = tipline_core.DataKey.generate()
    wrapped = key.wrap(cipher, b"tipline.report|data_key|7")
    assert len(wrapped) == tipline_core.WRAPPED_DATA_KEY_SIZE
    ciphertext = key.encrypt(b"a report", AAD)
    assert tipline_core.ciphertext_key_id(ciphertext) == (
        tipline_core.DATA_KEY_ID)
    unwrapped = tipline_core.DataKey.unwrap(
        cipher, wrapped, b"tipline.report|data_key|7")
    assert unwrapped.decrypt(ciphertext, AAD) == b"a report"
    with pytest.raises(DecryptionError):
        cipher.decrypt(ciphertext, AAD)
    with pytest.raises(DecryptionError):
        tipline_core.DataKey.unwrap(
            cipher, wrapped, b"tipline.report|data_key|8")


def test_data_key_rewrap_survives_destroying_the_old_keyset_key(
        keyset, cipher):
    key = tipline_core.DataKey.generate()
    wrapped = key.wrap(cipher, AAD)
    ciphertext = key.encrypt(b"kept", AAD)
    keyset.rotate()
    rewrapped = tipline_core.DataKey.rewrap(cipher, wrapped, AAD)
    assert tipline_core.ciphertext_key_id(rewrapped) == keyset.primary_id
    keyset.disable(1)
    keyset.destroy(1)
    with pytest.raises(DecryptionError):
        tipline_core.DataKey.unwrap(cipher, wrapped, AAD)
    assert tipline_core.DataKey.unwrap(cipher, rewrapped, AAD).decrypt(
        ciphertext, AAD) == b"kept"
    with pytest.raises(TypeError):
        tipline_core.DataKey(None)


def test_blind_index_from_a_kept_index_key():
    master = tipline_core.new_master_key()
    kept = BlindIndexer.from_key(tipline_core.blind_index_key(master))
    assert kept.index(b"alice", "reporter") == BlindIndexer(master).index(
        b"alice", "reporter")
    with pytest.raises(InvalidInput):
        BlindIndexer.from_key(b"short")
