"""Exercises of notebook 03: a frame header, unmasking, a close frame, fragments."""

from __future__ import annotations

import struct
from typing import Any

from ..codec import frames as fr
from .core import Case, Exercise, expect, register, run_cases

__all__: list[str] = []

# --- parse_header ---------------------------------------------------------------------------

_KEY = bytes.fromhex("37fa213d")


def _header_case(opcode: int, length: int, *, fin: bool = True, key: bytes | None = None) -> tuple[bytes, dict]:
    """The header bytes (plus a few payload bytes) of such a frame, and the expected parse."""
    # Deliberately codec.frames.encode's header code again: these headers announce payloads never built (2**32 + 5
    # bytes), and encode() needs the whole payload.
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if key else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    head += key or b""
    expected = {"fin": fin, "opcode": opcode, "masked": key is not None, "length": length, "header_size": len(head)}
    return head + b"\xaa" * min(length, 8), expected


HEADER_CASES = [
    _header_case(0x1, 5, key=_KEY),            # RFC 6455's masked "Hello"
    _header_case(0x1, 5),
    _header_case(0x2, 125),
    _header_case(0x2, 300),                    # 16-bit length, 0x012c
    _header_case(0x1, 40_000, key=_KEY),       # 16-bit length above 32767: signed reads go negative
    _header_case(0x2, 70_000),                 # 64-bit length
    _header_case(0x2, 2**32 + 5, key=_KEY),    # 64-bit length that does not fit in 32 bits
    _header_case(0x0, 3, fin=False),           # a middle continuation fragment
    _header_case(0x9, 4, key=_KEY),            # a ping
    _header_case(0x8, 2),                      # a close
]


def _header_mistake(case: Case, got: Any) -> str:
    (data,), expected = case.args, case.expected
    if not isinstance(got, dict):
        return "return a dict with the keys fin, opcode, masked, length, header_size"
    missing = sorted(set(expected) - set(got))
    if missing:
        return f"the dict lacks {', '.join(missing)}"
    wrong = [k for k in expected if got[k] != expected[k]]
    first, second = data[0], data[1]
    if "fin" in wrong:
        return "FIN is the highest bit of byte 0: bool(byte0 & 0x80)"
    if "opcode" in wrong:
        if got["opcode"] == first >> 4:
            return "the opcode is the LOW four bits of byte 0 (byte0 & 0x0F), not the high ones"
        return "the opcode is byte0 & 0x0F"
    if "masked" in wrong:
        return "MASK is the highest bit of byte 1: bool(byte1 & 0x80)"
    if "length" in wrong:
        length, n = got["length"], expected["length"]
        if length == second:
            return "the 7-bit length is byte1 & 0x7F: the MASK bit is not part of it"
        if isinstance(length, int) and length < 0:
            return "the length was read as signed: use unsigned '!H' / '!Q' (or int.from_bytes), not '!h' / '!q'"
        if second & 0x7F == 126 and length == int.from_bytes(data[2:4], "little"):
            return "the 16-bit length was read little-endian: network order is big-endian ('!H')"
        if second & 0x7F == 127 and length == int.from_bytes(data[2:10], "little"):
            return "the 64-bit length was read little-endian: network order is big-endian ('!Q')"
        if second & 0x7F == 127 and length in (int.from_bytes(data[2:6], "big"), int.from_bytes(data[6:10], "big")):
            return "127 means the next 8 bytes (64 bits) hold the length, not 4"
        if length == (second & 0x7F) and n >= 126:
            return "126 and 127 are markers: the real length follows in the next 2 or 8 bytes"
        return "the length went wrong"
    if "header_size" in wrong:
        if expected["masked"] and got["header_size"] == expected["header_size"] - 4:
            return "a masked frame's header includes the 4-byte masking key"
        return "header_size counts every byte before the payload: 2, plus 2 or 8 of extended length, plus 4 of key"
    return ""


def _check_parse_header(parse_header: Any) -> str:
    run_cases(parse_header, [Case(f"parse_header(bytes.fromhex({data.hex()!r}))", (data,), expected)
                             for data, expected in HEADER_CASES], mistake=_header_mistake)
    # live: frames a real server sent, in the three length forms
    import wskit

    with wskit.EchoServer(name="exercise-header") as srv, wskit.RawSocket(srv.url) as raw:
        raw.handshake()
        for size in (7, 1000, 70_000):
            raw.send_frame(fr.Frame(fr.Opcode.BINARY, bytes(size)).masked_with())
            wire = fr.encode(raw.recv_frame())
            expected = {"fin": True, "opcode": 2, "masked": False, "length": size, "header_size": len(wire) - size}
            run_cases(parse_header, [Case(f"the live server's {size}-byte frame: header {wire[:16].hex(' ')}",
                                          (wire[:16],), expected)], mistake=_header_mistake)
    return f"{len(HEADER_CASES)} headers right, and three frames of a live server in the three length forms"


register(Exercise(
    name="parse_header",
    notebook="03",
    title="parse a frame header: FIN, opcode, MASK and the three length forms",
    task="**Exercise 1: read a header.** Write `parse_header(data)`: `data` starts with a frame (maybe only its "
         "first bytes). Return a dict with `fin` (bool), `opcode` (int), `masked` (bool), `length` (the payload "
         "length, int) and `header_size` (bytes before the payload, masking key included).",
    function="parse_header",
    solution='''def parse_header(data: bytes) -> dict:
    """{"fin": bool, "opcode": int, "masked": bool, "length": int, "header_size": int} of the frame in `data`."""
    fin, opcode = bool(data[0] & 0x80), data[0] & 0x0F
    masked, length = bool(data[1] & 0x80), data[1] & 0x7F
    size = 2
    if length == 126:
        length, size = int.from_bytes(data[2:4], "big"), 4  # unsigned, network order
    elif length == 127:
        length, size = int.from_bytes(data[2:10], "big"), 10
    if masked:
        size += 4
    return {"fin": fin, "opcode": opcode, "masked": masked, "length": length, "header_size": size}''',
    # a declaration, like decode_packet's: a solution that returns a dict, then its hints (same shape, other words)
    hints=(
        "Byte 0: FIN is the top bit (0x80), the opcode the low four bits (0x0F). Byte 1: MASK is the top bit, the "
        "7-bit length the rest (0x7F).",
        "A 7-bit length of 126 means: the length is the next 2 bytes; 127: the next 8 bytes. Both unsigned and "
        "big-endian: int.from_bytes(..., 'big') or struct '!H' / '!Q'.",
        "header_size is 2, plus 2 or 8 for an extended length, plus 4 when the frame carries a masking key.",
    ),
    checker=_check_parse_header,
))

# --- unmask ---------------------------------------------------------------------------------

UNMASK_CASES = [
    (bytes.fromhex("7f9f4d5158"), bytes.fromhex("37fa213d")),   # RFC 6455's "Hello"
    (b"", bytes.fromhex("01020304")),
    (b"\x00\x00\x00\x00\x00\x00\x00", bytes.fromhex("a1b2c3d4")),
    (bytes(range(256)) * 3, bytes.fromhex("deadbeef")),
    (bytes(200_000), bytes.fromhex("0f1e2d3c")),                # big: a slow loop is fine, a hang is not
]


def _unmask_case(payload: bytes, key: bytes) -> Case:
    shown = payload if len(payload) <= 16 else payload[:16] + b"..."
    return Case(f"unmask({shown!r}, bytes.fromhex({key.hex()!r})) ({len(payload)} bytes)", (payload, key),
                fr.apply_mask(payload, key))


def _unmask_mistake(case: Case, got: Any) -> str:
    payload, key = case.args
    if not isinstance(got, (bytes, bytearray)):
        return f"return bytes (bytes(...) of the list), not {type(got).__name__}"
    if len(got) != len(payload):
        return f"{len(got)} bytes out for {len(payload)} in: every payload byte is XOR-ed (zip() stops at 4)"
    for label, candidate in (
        ("the key was applied from the wrong offset: byte i uses key[i % 4], starting at key[0]",
         bytes(b ^ key[(i + 1) % 4] for i, b in enumerate(payload))),
        ("the key was applied from the wrong offset: byte i uses key[i % 4], starting at key[0]",
         bytes(b ^ key[(i - 1) % 4] for i, b in enumerate(payload))),
        ("the key was reversed: use its bytes in order", bytes(b ^ key[::-1][i % 4] for i, b in enumerate(payload))),
        ("only the first 4 bytes were unmasked: the key repeats over the whole payload",
         bytes(b ^ key[i] if i < 4 else b for i, b in enumerate(payload))),
        ("the key repeats every 4 bytes: i % 4, not i % 3", bytes(b ^ key[i % 3] for i, b in enumerate(payload))),
    ):
        if bytes(got) == candidate:
            return label
    return ""


def _check_unmask(unmask: Any) -> str:
    run_cases(unmask, [_unmask_case(payload, key) for payload, key in UNMASK_CASES], mistake=_unmask_mistake)
    # live: mask a frame with your function (it is the same operation) and send it to a real server
    import wskit

    with wskit.EchoServer(name="exercise-unmask") as srv, wskit.RawSocket(srv.url) as raw:
        raw.handshake()
        text = "masked by your function ✓".encode()
        key = bytes.fromhex("5a17c0de")
        raw.send(bytes([0x81, 0x80 | len(text)]) + key + bytes(unmask(text, key)))
        expect("a frame masked with your function, echoed by a live server", text, raw.recv_frame().payload)
    return f"{len(UNMASK_CASES)} payloads right, and a live server read a frame masked with your function"


register(Exercise(
    name="unmask",
    notebook="03",
    title="unmask a payload with its 4-byte key",
    task="**Exercise 2: unmask.** Write `unmask(payload, key)`: the payload XOR-ed with the 4-byte key, repeated. "
         "The check tries hidden payloads (one of 200 kB), then masks a frame with your function (the same "
         "operation) and sends it to a live server.",
    function="unmask",
    solution='''def unmask(payload: bytes, key: bytes) -> bytes:
    """`payload` XOR-ed with the 4-byte masking `key`, repeated."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))''',
    hints=(
        "Byte i of the payload is XOR-ed (^) with byte i % 4 of the key, for every i from 0.",
        "enumerate(payload) gives (i, byte) pairs; bytes(...) turns a sequence of ints into bytes.",
    ),
    checker=_check_unmask,
))

# --- close_frame ----------------------------------------------------------------------------

CLOSE_CASES = [(1000, ""), (1000, "see you"), (1001, "going away"), (4000, "tschüss 👋"), (1011, "x" * 123)]
CLOSE_REFUSED = [(1000, "x" * 124, "a reason of 124 bytes: with the 2-byte code that is over 125"),
                 (1000, "é" * 62, "62 × 'é' is 124 bytes in UTF-8 (count bytes, not characters)"),
                 (1005, "", "1005 only describes a closure locally: it is never sent"),
                 (999, "", "codes below 1000 are not used")]


def _close_mistake(case: Case, got: Any) -> str:
    code, reason = case.args
    if not isinstance(got, (bytes, bytearray)):
        return f"return the frame's bytes, not {type(got).__name__}"
    got = bytes(got)
    data = reason.encode()
    if got[:1] == b"\x08":
        return "the FIN bit is missing: byte 0 is 0x88 (FIN + opcode 8); control frames are never fragmented"
    if got[:1] and got[0] & 0x0F != 0x8:
        return f"byte 0 carries opcode {got[0] & 0x0F}: a close frame is opcode 8"
    if len(got) > 1 and got[1] & 0x80:
        return "this frame is masked: a server's frames are never masked (the check masks it to send it)"
    if got[2:4] == struct.pack("<H", code) and code.to_bytes(2, "big") != code.to_bytes(2, "little"):
        return "the code was packed little-endian: network order is big-endian (struct '!H')"
    if got[2:2 + len(str(code))] == str(code).encode():
        return "the code was written as text: it is 2 bytes, the number in big-endian"
    if len(got) > 1 and len(reason) != len(data) and got[1] in (len(reason), len(reason) + 2):
        return "the length counts characters: it is the bytes of the UTF-8 reason, plus 2 for the code"
    if len(got) > 1 and got[1] == len(data):
        return "the length must include the 2 bytes of the code"
    if got[4:] != data:
        return "the reason is the UTF-8 bytes after the code"
    return ""


def _check_close_frame(close_frame: Any) -> str:
    run_cases(close_frame, [Case(f"close_frame({code}, {reason!r})", (code, reason),
                                 fr.encode(fr.Frame(fr.Opcode.CLOSE, fr.close_payload(code, reason))))
                            for code, reason in CLOSE_CASES], mistake=_close_mistake)
    run_cases(close_frame, [Case(f"close_frame({code}, {reason!r})", (code, reason), ValueError, f"refuse it: {why}")
                            for code, reason, why in CLOSE_REFUSED])
    # live: send your frame (masked, as a client must) and read the server's answer
    import wskit

    with wskit.EchoServer(name="exercise-close") as srv, wskit.RawSocket(srv.url) as raw:
        raw.handshake()
        frame, _ = fr.decode(bytes(close_frame(4001, "done ✓")))
        raw.send_frame(frame.masked_with())
        expect("your close frame sent to a live server", (4001, "done ✓"), fr.parse_close(raw.recv_frame().payload))
    return "every frame byte for byte, the refusals raised, and a live server closed with your code and reason"


register(Exercise(
    name="close_frame",
    notebook="03",
    title="build a close frame with a code and a reason",
    task="**Exercise 3: say goodbye.** Write `close_frame(code, reason)`: the bytes of an unmasked close frame (as "
         "a server sends it) carrying the 2-byte code and the UTF-8 reason. Raise `ValueError` for what may not "
         "be sent: a payload over 125 bytes, a code outside 1000-4999, or 1005, 1006, 1015.",
    function="close_frame",
    solution='''def close_frame(code: int, reason: str = "") -> bytes:
    """The bytes of an unmasked close frame with `code` and `reason`; ValueError if it may not be sent."""
    if not 1000 <= code <= 4999 or code in (1005, 1006, 1015):
        raise ValueError(f"close code {code} may not be sent")
    payload = code.to_bytes(2, "big") + reason.encode("utf-8")
    if len(payload) > 125:
        raise ValueError(f"a control frame carries at most 125 bytes, not {len(payload)}")
    return bytes([0x88, len(payload)]) + payload  # FIN + opcode 8; no MASK bit''',
    hints=(
        "The payload is the code as 2 bytes, big-endian (code.to_bytes(2, 'big')), then reason.encode('utf-8').",
        "The header is 2 bytes: 0x88 (FIN + opcode 8), then the payload length (no MASK bit from a server). A "
        "control frame's payload is at most 125 bytes, so the 7-bit length always suffices.",
        "Count the payload in bytes after encoding: 'é' is 2 bytes in UTF-8.",
    ),
    checker=_check_close_frame,
))

# --- reassemble -----------------------------------------------------------------------------

F, T, B, C, P, PO = fr.Frame, fr.Opcode.TEXT, fr.Opcode.BINARY, fr.Opcode.CONT, fr.Opcode.PING, fr.Opcode.PONG

REASSEMBLE_CASES: list[tuple[str, list[fr.Frame], Any]] = [
    ("one whole text frame", [F(T, b"hello")], ["hello"]),
    ("a text message in three fragments", [F(T, b"Sure, ", fin=False), F(C, b"let's ", fin=False), F(C, b"start")],
     ["Sure, let's start"]),
    ("two messages in a row", [F(T, b"a", fin=False), F(C, b"b"), F(B, b"\x00\x01", fin=False), F(C, b"\x02")],
     ["ab", b"\x00\x01\x02"]),
    ("a ping between two fragments", [F(T, b"hel", fin=False), F(P, b"are you there?"), F(C, b"lo")], ["hello"]),
    ("'é' cut in the middle of its two UTF-8 bytes", [F(T, b"caf\xc3", fin=False), F(C, b"\xa9!")], ["café!"]),
    ("an empty final fragment", [F(B, b"xyz", fin=False), F(C, b"")], [b"xyz"]),
    ("a pong, then a text message", [F(PO, b""), F(T, b"ok")], ["ok"]),
]
REASSEMBLE_REFUSED: list[tuple[str, list[fr.Frame], str]] = [
    ("a fragmented ping", [F(T, b"a", fin=False), F(P, b"x", fin=False), F(C, b"b")],
     "a control frame (ping, pong, close) with FIN = 0 must be refused: control frames are never fragmented"),
    ("a continuation with nothing to continue", [F(C, b"orphan")],
     "a continuation frame (opcode 0) needs a message in progress"),
    ("a new text frame while a message is open", [F(T, b"a", fin=False), F(T, b"b")],
     "a new text or binary frame may not start while a fragmented message is still open"),
]


def _reassemble_mistake(case: Case, got: Any) -> str:
    expected = case.expected
    if not isinstance(got, list):
        return ""
    if any(isinstance(m, (bytes, str)) and b"are you" in (m.encode() if isinstance(m, str) else m) for m in got):
        return "a ping's payload went into the message: control frames are not part of it"
    if len(got) < len(expected):
        return "a message is complete when a frame with FIN = 1 arrives (deliver it, then start afresh)"
    if any(isinstance(m, bytes) for m in got) and all(isinstance(m, str) for m in expected):
        return "a text message's type comes from its FIRST frame (continuations carry opcode 0): decode it"
    if len(got) > len(expected):
        return "one message per FIN = 1 frame; control frames are not messages here"
    return ""


def _reassemble_error(case: Case, error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "decode the whole message once it is complete, not each fragment: a character may be cut between two " \
            "fragments"
    return ""


def _check_reassemble(reassemble: Any) -> str:
    run_cases(reassemble, [Case(f"{label}: {frames}", (list(frames),), expected)  # a copy: the table stays intact
                           for label, frames, expected in REASSEMBLE_CASES],
              mistake=_reassemble_mistake, on_error=_reassemble_error)
    run_cases(reassemble, [Case(f"{label}: {frames}", (list(frames),), ValueError, why)
                           for label, frames, why in REASSEMBLE_REFUSED])
    # live: a real server sends fragmented messages; read its frames raw and reassemble them
    import wskit

    async def fragments(ws: Any) -> None:
        await ws.recv()
        await ws.send(["Sure, ", "let's ", "start ✓"])  # websockets sends a list as fragments
        await ws.send([b"\x00\x01", b"\x02"])

    with wskit.Server(fragments, name="exercise-fragments") as srv, wskit.RawSocket(srv.url) as raw:
        raw.handshake()
        raw.send_frame(fr.Frame(fr.Opcode.TEXT, b"go").masked_with())
        frames: list[fr.Frame] = []
        while sum(f.fin and not f.opcode.is_control for f in frames) < 2 and len(frames) < 50:
            frames.append(raw.recv_frame())  # websockets ends a fragmented message with an empty final frame
    run_cases(reassemble, [Case(f"the live server's fragments: {frames}", (frames,),
                                ["Sure, let's start ✓", b"\x00\x01\x02"])], on_error=_reassemble_error)
    return (f"{len(REASSEMBLE_CASES)} sequences joined, {len(REASSEMBLE_REFUSED)} broken ones refused, and a live "
            "server's fragments reassembled")


register(Exercise(
    name="reassemble",
    notebook="03",
    title="reassemble fragments into messages, refusing a fragmented control frame",
    task="**Exercise 4: fragments.** Write `reassemble(frames)`: given `fr.Frame` objects in arrival order "
         "(`.opcode`, `.payload`, `.fin`), return the list of messages: `str` for text, `bytes` for binary. "
         "Control frames may come between fragments: skip them (they are not part of the message). Raise "
         "`ValueError` for a fragmented control frame, a continuation with nothing to continue, or a new message "
         "while one is open.",
    function="reassemble",
    solution='''from wskit.codec import frames as fr


def reassemble(frames: list) -> list:
    """The messages carried by `frames`: str for text, bytes for binary; ValueError for broken fragmentation."""
    messages, opcode, parts = [], None, []
    for frame in frames:
        if frame.opcode >= 0x8:  # close, ping, pong: control frames
            if not frame.fin:
                raise ValueError(f"fragmented {frame.opcode.name} frame")
            continue
        if frame.opcode == fr.Opcode.CONT:
            if opcode is None:
                raise ValueError("continuation frame with no message to continue")
        elif opcode is not None:
            raise ValueError("new message while a fragmented one is open")
        else:
            opcode = frame.opcode
        parts.append(frame.payload)
        if frame.fin:
            data = b"".join(parts)
            messages.append(data.decode("utf-8") if opcode == fr.Opcode.TEXT else data)
            opcode, parts = None, []
    return messages''',
    hints=(
        "Keep the open message's opcode (from its first frame) and a list of payloads; a frame with fin=True "
        "completes it.",
        "Control frames have opcodes 8, 9, 10 (>= 0x8). They may arrive between fragments but are not part of the "
        "message; a control frame with fin=False is an error.",
        "Join the payloads first, then decode text once: UTF-8 characters can be cut between fragments.",
    ),
    checker=_check_reassemble,
))
