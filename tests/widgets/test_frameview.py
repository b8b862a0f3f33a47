"""FrameView, tested without a kernel."""

from wskit.codec import frames as fr
from wskit.widgets import FrameView

MASKED_HELLO = bytes.fromhex("818537fa213d7f9f4d5158")


def test_shows_every_field_of_a_masked_frame():
    view = FrameView(MASKED_HELLO, title="Alice → Bob")
    names = [f.name for f in view.fields]
    assert names == [
        "FIN", "RSV1", "RSV2", "RSV3", "opcode", "MASK", "payload length",
        "masking key", "payload (masked)", "payload (unmasked)",
    ]
    page = view.children[0].value
    assert "Alice → Bob" in page
    assert "37 fa 21 3d" in page and "7f 9f 4d 51 58" in page and "&#x27;Hello&#x27;" in page
    assert page.count("<td title=") == 16  # the first two bytes, one box per bit


def test_takes_a_frame_and_updates_when_data_changes():
    view = FrameView(fr.Frame(fr.Opcode.PING, b"?"))
    assert "PING" in view.children[0].value
    view.data = fr.encode(fr.Frame(fr.Opcode.BINARY, bytes(300)))
    assert "extended payload length (16 bits)" in view.children[0].value
    assert "300" in repr(view)


def test_incomplete_bytes_are_shown_not_raised():
    view = FrameView(MASKED_HELLO[:5])
    assert view.fields == []
    assert "not a whole frame yet" in view.children[0].value
    assert "5 bytes" in repr(view)


def test_text_repr_is_a_diagram():
    text = repr(FrameView(MASKED_HELLO))
    assert "masking key" in text and "0001" in text and "'Hello'" in text
