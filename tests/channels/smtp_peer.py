#!/usr/bin/python3
"""A real SMTP server for the smtp channel's tests (Debian's python3-aiosmtpd), on loopback only.

    smtp_peer.py --dir DIR --cert server.crt --key server.key [--user U --password P] [--no-tls]

Listens on 127.0.0.1, a port the system picks, and writes that port to DIR/port (whole, through a
rename) once it accepts connections. STARTTLS with the given certificate is required before MAIL
(unless --no-tls, which offers no STARTTLS at all); with --user, AUTH (PLAIN or LOGIN, over TLS
only) is required too.

Each accepted message is written to DIR/messages/<n>.json (through a rename): the envelope, whether
the session was TLS, who authenticated with which mechanism, the decoded Subject and text body (as
Python's email package reads them, which is the check that the MIME encoding is right), every
header, and the raw message.

A test makes it refuse by writing a reply into DIR/reply-mail, DIR/reply-rcpt or DIR/reply-data,
e.g. "451 4.3.0 Try again later" or "550 5.1.1 No such mailbox"; while the file exists that stage
answers with it. Removing the file makes the server accept again. SIGTERM stops it.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomically(path, text):
    temp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temp, path)


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.messages = os.path.join(directory, "messages")
        os.makedirs(self.messages, exist_ok=True)
        self.count = 0

    def forced_reply(self, stage):
        try:
            with open(os.path.join(self.directory, "reply-" + stage), encoding="utf-8") as f:
                reply = f.read().strip()
            return reply or None
        except FileNotFoundError:
            return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.forced_reply("mail")
        if reply:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.forced_reply("rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.forced_reply("data")
        if reply:
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "auth_mechanism": getattr(session, "auth_mechanism", None),
            "auth_login": getattr(session, "auth_login", None),
            "subject": str(message["Subject"]),
            "body": body.get_content() if body is not None else None,
            "headers": {k: str(v) for k, v in message.items()},
            "defects": [str(d) for d in message.defects],
            "raw": envelope.content.decode("ascii", errors="replace"),
        }
        self.count += 1
        write_atomically(os.path.join(self.messages, "%d.json" % self.count),
                         json.dumps(record, ensure_ascii=False, indent=1))
        return "250 2.0.0 Stored"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--no-tls", action="store_true")
    args = parser.parse_args()

    recorder = Recorder(args.dir)
    tls = None
    if not args.no_tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        if ok:
            session.auth_mechanism = mechanism
            session.auth_login = auth_data.login.decode()
        # handled=False: aiosmtpd answers 535 itself when the credentials are wrong.
        return AuthResult(success=ok, handled=False)

    def factory():
        return SMTP(recorder,
                    hostname="localhost",
                    ident="tsunagu-test-smtp",
                    tls_context=tls,
                    require_starttls=tls is not None,
                    auth_required=args.user is not None,
                    auth_require_tls=True,
                    authenticator=authenticator if args.user is not None else None)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, host="127.0.0.1", port=0)
        port = server.sockets[0].getsockname()[1]
        write_atomically(os.path.join(args.dir, "port"), str(port))
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
