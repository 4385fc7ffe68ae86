"""python -m telephony_adapter.media — the voice-menu media component.

Settings come from the environment, like the platform's: HOTLINE_PLATFORM_URL (where /cti/ivr/next
is), HOTLINE_CTI_TOKEN, HOTLINE_SIP_PROXY (host:port of Kamailio), HOTLINE_IVR_EXTENSION (the
extension to register as; the platform must be given the same), HOTLINE_MEDIA_IP, HOTLINE_MEDIA_SIP_PORT,
HOTLINE_MEDIA_RTP_PORTS (low-high), HOTLINE_PROMPTS_DIR (the spoken-prompt cache) and
HOTLINE_MEDIA_CONTROL_PORT (where the platform sends consult / three-way / transfer; the platform's
HOTLINE_MEDIA_CONTROL_URL points there)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from telephony_adapter.media.prompts import Prompts
from telephony_adapter.media.server import MediaServer, PlatformClient, control_server


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    env = os.environ
    missing = [name for name in ("HOTLINE_PLATFORM_URL", "HOTLINE_CTI_TOKEN", "HOTLINE_SIP_PROXY")
               if not env.get(name)]
    if missing:
        print(f"缺少环境变量：{', '.join(missing)}", file=sys.stderr)
        return 2
    host, _, port = env["HOTLINE_SIP_PROXY"].partition(":")
    low, _, high = env.get("HOTLINE_MEDIA_RTP_PORTS", "30000-30999").partition("-")
    server = MediaServer((host, int(port or 5060)), env.get("HOTLINE_IVR_EXTENSION", "ivr"),
                         PlatformClient(env["HOTLINE_PLATFORM_URL"], env["HOTLINE_CTI_TOKEN"]),
                         Prompts(Path(env.get("HOTLINE_PROMPTS_DIR", "instance/prompts"))),
                         my_ip=env.get("HOTLINE_MEDIA_IP", "127.0.0.1"),
                         sip_port=int(env.get("HOTLINE_MEDIA_SIP_PORT", "5070")), rtp_ports=(int(low), int(high)))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    if env.get("HOTLINE_MEDIA_CONTROL_PORT"):  # consult / three-way / transfer from the agent's page
        control_server(server, int(env["HOTLINE_MEDIA_CONTROL_PORT"]), env["HOTLINE_CTI_TOKEN"],
                       env.get("HOTLINE_MEDIA_CONTROL_HOST", "127.0.0.1"))
    logging.getLogger(__name__).info("voice menu registered as %s at %s", env.get("HOTLINE_IVR_EXTENSION", "ivr"),
                                     env["HOTLINE_SIP_PROXY"])
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
