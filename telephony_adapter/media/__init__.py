"""The voice-menu media component: a SIP user agent (pyVoIP) that registers with the proxy as the
IVR extension, answers hotline calls, plays the menu the platform describes, reaches the agent
on a second leg and asks the post-call survey. Run: python -m telephony_adapter.media."""

# pyVoIP's SIP module cannot be imported before its VoIP module (a circular import): load that first.
import pyVoIP.VoIP  # noqa: E402, F401
