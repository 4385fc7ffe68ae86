"""Real SIP peers on loopback for the call tests: Kamailio (proxy, registrar, asks the platform),
baresip agents' phones that answer by themselves, sipp callers. Debian packages, started here."""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from telephony_adapter.kamailio import KamailioSettings, render_config

SCENARIOS = Path(__file__).resolve().parent / "sip"
# Spoken prompts are synthesised once per machine: the cache outlives the test run (it is ignored by git).
PROMPT_CACHE = Path(__file__).resolve().parent.parent / "test-artifacts" / "prompts"
BINARIES = ("kamailio", "baresip", "sipp")


def missing_binaries(*extra: str) -> list[str]:
    return [name for name in (*BINARIES, *extra) if shutil.which(name) is None]


def require_peers(*extra: str) -> None:
    """Fail (not skip) the test when a peer's Debian package is missing: scripts/test installs them."""
    import pytest

    missing = missing_binaries(*extra)
    if missing:
        pytest.fail(f"SIP 测试需要 Debian 软件包：{', '.join(missing)}（scripts/test 会自动安装）", pytrace=False)


def _free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_phone_port(taken: set[int]) -> int:
    """A port for a baresip phone: it listens on UDP and TCP there and for TLS on the next port,
    so all three must be free (and not next to another phone's)."""
    for _ in range(200):
        port = free_port() & ~1  # even, so the TLS port (odd) of one phone is nobody's SIP port
        if {port, port + 1} & taken or not port:
            continue
        if _free(port, socket.SOCK_DGRAM) and _free(port, socket.SOCK_STREAM) and _free(port + 1, socket.SOCK_STREAM):
            taken.update({port, port + 1})
            return port
    raise RuntimeError("no free port pair for a baresip phone")


def free_media_ports() -> int:
    """An even base port for sipp's media: it binds audio RTP and RTCP there and on the next port,
    and video RTP and RTCP on the two after, so all four must be free (a CI run failed once when
    the video port was held by another program and sipp never placed its call)."""
    for _ in range(200):
        base = free_port() & ~1
        if base and all(_free(base + offset, socket.SOCK_DGRAM) for offset in range(4)):
            return base
    raise RuntimeError("no four free UDP ports in a row for sipp's media")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Peers:
    """Start with `start()`, stop everything with `stop()`; logs stay in `folder`."""

    def __init__(self, folder: Path, platform_url: str, token: str, record: bool = False,
                 softphones: bool = False) -> None:
        """`record`: rtpengine carries and records every call's media. `softphones`: browsers may
        register over WebSocket (implies `record`: rtpengine bridges their WebRTC media)."""
        self.folder = folder
        self.sip_port = free_port()
        self.xhttp_port = free_port(socket.SOCK_STREAM)
        self.websocket_port = free_port(socket.SOCK_STREAM) if softphones else None
        self.ng_port = free_port()
        self.recordings = folder / "recordings"
        media = f"udp:127.0.0.1:{self.ng_port}" if record or softphones else None
        self.settings = KamailioSettings(self.sip_port, self.xhttp_port, platform_url, token, rtpengine_socket=media,
                                         websocket_port=self.websocket_port)
        self.processes: list[subprocess.Popen] = []
        self.phone_ports: set[int] = set()
        self.control_ports: dict[str, int] = {}

    def start_rtpengine(self) -> None:
        """rtpengine in user space, recording every call's RTP to a pcap named by its Call-ID."""
        self.recordings.mkdir()
        port = free_port()
        self._spawn(["rtpengine", "-f", "-E", "-t", "-1", "-i", "127.0.0.1", "-n", f"127.0.0.1:{self.ng_port}",
                     "-m", str(port), "-M", str(port + 200), "--recording-method=pcap",
                     f"--recording-dir={self.recordings}", "-L", "6"], "rtpengine.log")
        deadline = time.monotonic() + 10
        while "Startup complete" not in self.log("rtpengine.log"):
            if time.monotonic() > deadline:
                raise TimeoutError("rtpengine did not start:\n" + self.log("rtpengine.log"))
            time.sleep(0.05)

    @property
    def media_control_url(self) -> str:
        return f"http://127.0.0.1:{self.media_control_port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.websocket_port}"

    @property
    def xhttp_url(self) -> str:
        return f"http://127.0.0.1:{self.xhttp_port}"

    def _spawn(self, args: list[str], log_name: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.folder / log_name, "wb")  # noqa: SIM115 - kept open while the peer runs
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   preexec_fn=_no_core_dumps)  # noqa: PLW1509 - no threads run this
        self.processes.append(process)
        return process

    def start_kamailio(self) -> None:
        config = self.folder / "kamailio.cfg"
        config.write_text(render_config(self.settings))
        self._spawn(["kamailio", "-f", str(config), "-DD", "-E", "-m", "64", "-M", "8",
                     "-P", str(self.folder / "kamailio.pid")], "kamailio.log")
        _wait_for_tcp(self.xhttp_port)

    def start_media(self, extension: str = "ivr") -> None:
        """The voice-menu media component (python -m telephony_adapter.media), registered as `extension`."""
        port, rtp = free_port(), free_port() & ~1
        self.media_control_port = free_port(socket.SOCK_STREAM)
        env = {**os.environ, "HOTLINE_PLATFORM_URL": self.settings.platform_url, "HOTLINE_CTI_TOKEN": self.settings.token,
               "HOTLINE_SIP_PROXY": f"127.0.0.1:{self.sip_port}", "HOTLINE_IVR_EXTENSION": extension,
               "HOTLINE_MEDIA_SIP_PORT": str(port), "HOTLINE_MEDIA_RTP_PORTS": f"{rtp}-{rtp + 40}",
               "HOTLINE_PROMPTS_DIR": str(PROMPT_CACHE), "HOTLINE_MEDIA_CONTROL_PORT": str(self.media_control_port)}
        self._spawn([sys.executable, "-m", "telephony_adapter.media"], "media.log", env=env)
        deadline = time.monotonic() + 15
        while "voice menu registered" not in self.log("media.log"):
            if time.monotonic() > deadline:
                raise TimeoutError("the media component did not register:\n" + self.log("media.log"))
            time.sleep(0.05)

    def hang_up_phone(self, username: str) -> None:
        """The agent presses hang-up: baresip's ctrl_tcp takes a netstring of JSON."""
        command = json.dumps({"command": "hangup", "params": "", "token": "test"}).encode()
        with socket.create_connection(("127.0.0.1", self.control_ports[username]), timeout=3) as control:
            control.sendall(str(len(command)).encode() + b":" + command + b",")
            control.recv(4096)

    def start_agent_phone(self, username: str) -> None:
        """A baresip phone that registers as `username` and answers every call by itself; the test
        hangs it up through its control port."""
        home = self.folder / f"phone-{username}"
        home.mkdir()
        self.control_ports[username] = free_port(socket.SOCK_STREAM)
        (home / "accounts").write_text(
            f"<sip:{username}@127.0.0.1:{self.sip_port};transport=udp>;regint=600;answermode=auto;"
            "audio_codecs=PCMU\n")
        (home / "config").write_text("\n".join([
            f"sip_listen 127.0.0.1:{free_phone_port(self.phone_ports)}", "module_path /usr/lib/baresip/modules",
            "module g711.so", "module ausine.so", "module aufile.so", "module account.so",
            "audio_source ausine,440", "module sndfile.so", f"snd_path {home}",  # sndfile: what it hears, as WAV
            "ausrc_srate 48000", "ausrc_channels 2", "auplay_srate 8000", "sip_trans_def udp",
            "module menu.so", "module ctrl_tcp.so", f"ctrl_tcp_listen 127.0.0.1:{self.control_ports[username]}", ""]))
        self._spawn(["baresip", "-f", str(home)], f"phone-{username}.log")

    def wait_registered(self, usernames: list[str], timeout: float = 10.0) -> None:
        """Until Kamailio's location table holds every phone (read through kamctl-free means: its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = "".join((self.folder / f"phone-{u}.log").read_text(errors="replace") for u in usernames)
            if logs.count("200 OK") >= len(usernames) or logs.count("registered successfully") >= len(usernames):
                return
            time.sleep(0.1)
        raise TimeoutError("baresip phones did not register:\n" + logs)

    def call(self, scenario: str | None = None, caller: str = "13800000001", hold_ms: int = 1500,
             timeout: float = 30.0, background: bool = False,
             echo: bool = False) -> subprocess.Popen | subprocess.CompletedProcess:
        """One sipp call to the hotline number; `scenario` names an XML file in tests/sip/. With
        `echo`, the caller sends back every RTP packet it hears (sipp's -rtp_echo)."""
        args = ["sipp", f"127.0.0.1:{self.sip_port}", "-s", "12393", "-m", "1", "-l", "1", "-i", "127.0.0.1",
                "-p", str(free_port()), "-mp", str(free_media_ports()), "-d", str(hold_ms),
                "-timeout", f"{int(timeout)}s", "-timeout_error",
                "-set", "caller", caller, "-nostdin", "-trace_err", "-error_file",
                str(self.folder / f"sipp-{caller}.err")]
        args += ["-sf", str(SCENARIOS / scenario)] if scenario else ["-sn", "uac"]
        args += ["-rtp_echo"] if echo else []
        if background:
            return self._spawn(args, f"sipp-{caller}.log")
        return subprocess.run(args, capture_output=True, timeout=timeout + 10, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()

    def log(self, name: str) -> str:
        return (self.folder / name).read_text(errors="replace")

    def tell(self, request) -> None:
        """After a failed story: print the last words of every peer's log (pytest shows them under
        the failure). A SIP story that times out on a CI machine is only understood from these,
        and pytest keeps a run's folder only until the third run after it."""
        report = getattr(request.node, "report_call", None)
        if report is None or not report.failed:
            return
        for path in sorted(self.folder.glob("*.log")) + sorted(self.folder.glob("*.err")):
            print(f"----- {path.name} (last 4,000 characters) -----")
            print(path.read_text(errors="replace")[-4000:])


def wait_until(check, timeout: float = 10.0, explain=None):
    """Poll `check` (with fresh reads from the database) until it gives something true; return that.
    `explain` gives what a failure should show (e.g. the peers' logs): a SIP story that times out
    in CI is only understood from what the peers said."""
    from app.extensions import db

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out" + (f"\n{explain()}" if explain else ""))


def agent_state(user) -> str:
    from app.extensions import db
    from app.models import AgentPresence

    db.session.expire_all()
    return db.session.get(AgentPresence, user.id).state


def _no_core_dumps() -> None:
    # rtpengine may dump core when stopped; a 70 MB file in the working tree helps nobody.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _wait_for_tcp(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
