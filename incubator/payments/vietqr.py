"""VietQR: the EMVCo merchant-presented QR payload that Vietnamese banking apps scan (NAPAS 247 transfer).

Fields (EMVCo MPM, NAPAS's VietQR profile): 00 format "01"; 01 "12" (dynamic: it carries an amount);
38 the beneficiary (00 NAPAS GUID ``A000000727``, 01 the bank's BIN and the account number, 02 the service
``QRIBFTTA``, a transfer to an account); 53 currency 704 (VND); 54 the amount; 58 country VN; 62/08 the
transfer's message (our reference); 63 the CRC-16/CCITT-FALSE of everything before it, "6304" included
(``binascii.crc_hqx`` with the initial value 0xFFFF is that CRC).
"""

from __future__ import annotations

import binascii
import re

import segno

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"VietQR field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def crc16(data: str) -> str:
    return f"{binascii.crc_hqx(data.encode(), 0xFFFF):04X}"


def payload(*, bank_bin: str, account: str, amount: int | None, reference: str = "") -> str:
    """The payload for a transfer of ``amount`` VND to ``account`` at the bank ``bank_bin``."""
    if not re.fullmatch(r"\d{6}", bank_bin) or not re.fullmatch(r"[0-9A-Za-z]{1,19}", account):
        raise ValueError("a VietQR code needs a 6-digit bank BIN and an account number")
    beneficiary = _field("00", bank_bin) + _field("01", account)
    text = (_field("00", "01") + _field("01", "12" if amount else "11")
            + _field("38", _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", TO_ACCOUNT))
            + _field("53", "704") + (_field("54", str(amount)) if amount else "") + _field("58", "VN")
            + (_field("62", _field("08", reference)) if reference else "") + "6304")
    return text + crc16(text)


def svg_data_uri(text: str) -> str:
    """The QR image of ``text``, to put in an ``<img src>``."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5))
