"""VietQR payloads: the published examples, byte for byte, and any payload read back by an independent
TLV parser and CRC."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator.payments import vietqr

# Published payloads: NAPAS's generator example (the "ung ho lu lut" transfer) and a code payOS issued
# for a payment link (its checkout page's QR, VQRQ... being payOS's virtual account).
PUBLISHED = [
    (("970415", "0011001932418", 120000, "ung ho lu lut"),
     "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813"
     "ung ho lu lut6304C15C"),
    (("970422", "VQRQADAIJ5512", 7000, "TL89 100"),
     "00020101021238570010A000000727012700069704220113VQRQADAIJ55120208QRIBFTTA5303704540470005802VN62120808"
     "TL89 1006304E346"),
]


@pytest.mark.parametrize(("args", "expected"), PUBLISHED)
def test_published_payloads(args, expected):
    bank_bin, account, amount, reference = args
    assert vietqr.payload(bank_bin=bank_bin, account=account, amount=amount, reference=reference) == expected


def test_the_crc_is_ccitt_false():
    assert vietqr.crc16("123456789") == "29B1"  # the catalogued check value of CRC-16/CCITT-FALSE


def _crc(data: bytes) -> int:  # bit by bit, as the EMVCo annex describes it
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _tlv(text: str) -> dict[str, str]:
    fields, at = {}, 0
    while at < len(text):
        tag, size = text[at:at + 2], int(text[at + 2:at + 4])
        fields[tag] = text[at + 4:at + 4 + size]
        at += 4 + size
    return fields


@given(bank_bin=st.from_regex(r"97\d{4}", fullmatch=True),
       account=st.from_regex(r"[0-9A-Z]{1,19}", fullmatch=True),
       amount=st.integers(min_value=1, max_value=10**12),
       reference=st.from_regex(r"[A-Za-z0-9 ]{1,25}", fullmatch=True))
def test_any_payload_reads_back(bank_bin, account, amount, reference):
    text = vietqr.payload(bank_bin=bank_bin, account=account, amount=amount, reference=reference)
    fields = _tlv(text)
    assert fields["63"] == f"{_crc(text[:-4].encode()):04X}"
    beneficiary = _tlv(_tlv(fields["38"])["01"])
    assert (beneficiary["00"], beneficiary["01"]) == (bank_bin, account)
    assert _tlv(fields["38"])["00"] == "A000000727" and _tlv(fields["38"])["02"] == "QRIBFTTA"
    assert (int(fields["54"]), fields["53"], fields["58"], _tlv(fields["62"])["08"]) == (amount, "704", "VN",
                                                                                        reference)


def test_bad_bank_details_are_refused():
    for bank_bin, account in (("97043", "0123"), ("970436", ""), ("970436", "0123-456")):
        with pytest.raises(ValueError):
            vietqr.payload(bank_bin=bank_bin, account=account, amount=1000)
