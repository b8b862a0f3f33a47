import socket


def refuses(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def open_fds() -> int:
    import os

    return len(os.listdir("/proc/self/fd"))
