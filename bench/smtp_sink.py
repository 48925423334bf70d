"""A bench SMTP sink (loopback): accepts every message and appends its recipients, one line each,
to a file; --delay-ms holds the final reply to DATA that long (a slow mail server, so that a
sender can be killed mid-send). The message counts as received once its data is in, before the
reply: what a real server that queued it would do.

    python3 bench/smtp_sink.py --port 2599 --log bench/out/smtp.log [--delay-ms 0]
"""
import argparse
import socketserver
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--delay-ms", type=int, default=0)
args = parser.parse_args()
lock = threading.Lock()


class Session(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ESMTP")
        recipients = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self.reply("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb.startswith("MAIL FROM:"):
                recipients = []
                self.reply("250 OK")
            elif verb.startswith("RCPT TO:"):
                recipients.append(verb[8:].strip().strip("<>").lower())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                while True:
                    data = self.rfile.readline()
                    if not data:
                        return
                    if data in (b".\r\n", b".\n"):
                        break
                with lock, open(args.log, "a") as log:
                    for r in recipients:
                        log.write(r + "\n")
                time.sleep(args.delay_ms / 1000)
                self.reply("250 OK queued")
            elif verb.startswith("QUIT"):
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    # two instances send 32 reports at a time each: the default backlog (5) drops connections
    request_queue_size = 512


Server(("127.0.0.1", args.port), Session).serve_forever()
