"""TLS for ``wss://`` on this machine: a throw-away certificate authority (trustme).

>>> from wskit.live.tls import local_tls
>>> tls = local_tls()
>>> tls.server.protocol.name, tls.client.check_hostname
('PROTOCOL_TLS_SERVER', True)
"""

from __future__ import annotations

import dataclasses
import ssl

import trustme

__all__ = ["LocalTLS", "local_tls"]


@dataclasses.dataclass(frozen=True)
class LocalTLS:
    """A local certificate authority, a certificate it issued, and contexts for both ends.

    Attributes:
        server: give it to a server (``wskit.EchoServer(ssl=tls.server)``).
        client: give it to a client (``wskit.connect(url, ssl=tls.client)``); it trusts only this CA.
        ca_pem: the authority's certificate, PEM text.
        cert_pem: the server's certificate, PEM text (inspect it with ``ssl`` or ``openssl x509``).
        key_pem: the server certificate's private key, PEM text, for a server that takes files (Node.js, a
            proxy). Throw-away, like the authority: never use it beyond this machine.
    """

    server: ssl.SSLContext
    client: ssl.SSLContext
    ca_pem: str
    cert_pem: str
    key_pem: str = dataclasses.field(repr=False)  # a shown LocalTLS must not put a key into a notebook


def local_tls(*hostnames: str) -> LocalTLS:
    """A new local CA and a server certificate for ``hostnames`` (default: 127.0.0.1 and localhost)."""
    ca = trustme.CA(organization_name="wskit course CA")
    cert = ca.issue_cert(*(hostnames or ("127.0.0.1", "localhost")))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client)
    return LocalTLS(server, client, ca.cert_pem.bytes().decode(), cert.cert_chain_pems[0].bytes().decode(),
                    cert.private_key_pem.bytes().decode())
